using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Shoal.Transport.Udp;

/// <summary>
/// One UDP socket shared by the protocols of a port (issue 14: the session's UDP port has one owner; the DHT and uTP
/// both live on it). One receive loop reads every datagram into one reused buffer and hands it to the first
/// <see cref="UdpClaim"/> whose <see cref="DatagramClassifier"/> accepts it (see <see cref="DatagramShapes"/>);
/// datagrams nobody claims are counted and dropped. Sends go straight to the kernel from the caller's span.
/// </summary>
/// <remarks>
/// <para>System calls: a burst of datagrams is drained with as few calls as the platform allows, and a batch of
/// datagrams to one destination leaves in one (<see cref="IUdpBatchIo"/>: <c>recvmmsg</c>/<c>sendmmsg</c> with UDP
/// GRO/GSO on Linux, one datagram per call elsewhere).</para>
/// <para>Hot path: nothing is allocated per datagram. The receive buffers are reused (pinned or native); the sender's
/// address lands in a reused <see cref="SocketAddress"/> and maps to a cached <see cref="IPEndPoint"/>; a claim
/// without a queue reads the datagram in place; a send serializes its destination once (cached).</para>
/// <para>Bounds: the kernel buffers (4 MiB asked for); the endpoint caches (<see cref="MaxCachedEndPoints"/> each,
/// then they start over); a claim's queue (its capacity in datagrams and <see cref="UdpClaim.MaxQueuedBytes"/>; a
/// datagram beyond them is dropped and counted). Sends never block: the socket is non-blocking, and a datagram the
/// kernel has no room for is dropped and counted, as the network would drop it.</para>
/// <para>Disposal is asynchronous and never blocks a thread: it closes the socket, waits for the receive loop to
/// end, then for every claim's delivery loop.</para>
/// </remarks>
public sealed class UdpSocket : IAsyncDisposable, IReceivedDatagramSink
{
    /// <summary>Endpoints remembered per direction; past it a cache starts over (bounded memory).</summary>
    public const int MaxCachedEndPoints = 4096;

    /// <summary>Kernel buffer size asked for: a burst of a fast uTP connection must not overflow it (the kernel may grant less).</summary>
    private const int KernelBufferSize = 4 * 1024 * 1024;

    private readonly Socket _socket;
    private readonly IUdpBatchIo _io;
    private readonly Action<string>? _log;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _claimsLock = new();
    private readonly ConcurrentDictionary<IPEndPoint, SocketAddress> _sendAddresses = new();
    private readonly Dictionary<SocketAddress, IPEndPoint> _receiveEndPoints = []; // the receive loop's alone
    private UdpClaim[] _claims = []; // copy on write: the receive loop reads it without the lock
    private Task _loop = Task.CompletedTask;
    private bool _loopStarted;
    private int _disposed;
    private long _received, _unclaimed, _sent, _sendFailures, _handlerErrors;

    private UdpSocket(Socket socket, Func<Socket, IUdpBatchIo>? io, Action<string>? log)
    {
        _socket = socket;
        _io = io?.Invoke(socket) ?? UdpBatchIo.Create(socket, log);
        _log = log;
        LocalEndPoint = (IPEndPoint)socket.LocalEndPoint!;
    }

    /// <summary>
    /// Binds a UDP socket to <paramref name="localEndPoint"/> (port 0 picks a free one). An IPv6 socket is IPv6 only
    /// (BEP 32: the IPv4 DHT is another network, on its own socket of the same port number).
    /// </summary>
    /// <param name="localEndPoint">Where to bind.</param>
    /// <param name="log">Receives one-line diagnostics (a handler that threw); null discards them.</param>
    /// <exception cref="SocketException">The address cannot be bound.</exception>
    public static UdpSocket Bind(IPEndPoint localEndPoint, Action<string>? log = null) => Bind(localEndPoint, null, log);

    /// <summary>As <see cref="Bind(IPEndPoint, Action{string})"/>, with the system calls <paramref name="io"/> makes for the socket (tests of each path).</summary>
    internal static UdpSocket Bind(IPEndPoint localEndPoint, Func<Socket, IUdpBatchIo>? io, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(localEndPoint);
        var socket = new Socket(localEndPoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (localEndPoint.AddressFamily == AddressFamily.InterNetworkV6) socket.DualMode = false;
            TrySetBuffers(socket);
            socket.Bind(localEndPoint);
            socket.Blocking = false; // a send the kernel has no room for fails at once instead of stalling its caller
            return new UdpSocket(socket, io, log);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>The bound endpoint (with the real port when bound to port 0).</summary>
    public IPEndPoint LocalEndPoint { get; }

    /// <summary>The socket's address family.</summary>
    public AddressFamily AddressFamily => LocalEndPoint.AddressFamily;

    /// <summary>How the socket sends and receives batches (diagnostics, tests).</summary>
    internal IUdpBatchIo BatchIo => _io;

    /// <summary>What the socket has done so far.</summary>
    public UdpSocketCounters Counters => new(Interlocked.Read(ref _received), Interlocked.Read(ref _unclaimed), Interlocked.Read(ref _sent),
        Interlocked.Read(ref _sendFailures), Interlocked.Read(ref _handlerErrors));

    /// <summary>
    /// Routes the datagrams <paramref name="classifier"/> accepts to <paramref name="handler"/>, from now until the
    /// claim is disposed; claims are asked in the order they were made, the first that accepts gets the datagram. The
    /// receive loop starts with the first claim.
    /// </summary>
    /// <param name="name">The protocol, for diagnostics ("KRPC", "uTP").</param>
    /// <param name="classifier">Which datagrams are this protocol's.</param>
    /// <param name="handler">Receives them.</param>
    /// <param name="queueCapacity">
    /// 0: the handler runs on the receive loop, reading the datagram in place (uTP: the fast path). Above 0: datagrams
    /// are copied into pooled buffers and queued, at most this many (and <see cref="UdpClaim.MaxQueuedBytes"/>), for
    /// the claim's own delivery loop — a protocol that decodes slowly or takes locks (the DHT) then never holds up the
    /// others, and a flood of it is dropped at its queue.
    /// </param>
    /// <exception cref="ObjectDisposedException">The socket is disposed.</exception>
    public UdpClaim Claim(string name, DatagramClassifier classifier, IUdpDatagramHandler handler, int queueCapacity = 0)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(classifier);
        ArgumentNullException.ThrowIfNull(handler);
        ArgumentOutOfRangeException.ThrowIfNegative(queueCapacity);
        var claim = new UdpClaim(this, name, classifier, handler, queueCapacity);
        lock (_claimsLock)
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            _claims = [.. _claims, claim];
            if (!_loopStarted)
            {
                _loopStarted = true;
                _loop = _io.ReceivesEverything ? StartReceiveThread() : Task.Run(ReceiveLoopAsync);
            }
        }
        return claim;
    }

    /// <summary>
    /// Sends one datagram to <paramref name="destination"/>; best effort, never throws and never blocks. False when it
    /// was dropped: a destination of the other family, a full kernel buffer, a network error, or a disposed socket.
    /// </summary>
    public bool Send(ReadOnlySpan<byte> datagram, IPEndPoint destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (Volatile.Read(ref _disposed) != 0) return false;
        SocketAddress? address = AddressOf(destination);
        if (address is null)
        {
            Interlocked.Increment(ref _sendFailures);
            return false;
        }
        try
        {
            _socket.SendTo(datagram, SocketFlags.None, address);
            Interlocked.Increment(ref _sent);
            return true;
        }
        catch (SocketException)
        {
            // A full buffer (WouldBlock), an unreachable host: a lost datagram, which both protocols tolerate by design.
            Interlocked.Increment(ref _sendFailures);
            return false;
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>
    /// Sends <paramref name="datagrams"/>, in order, to <paramref name="destination"/> in as few system calls as the
    /// platform allows; best effort, never throws and never blocks. Returns how many left (a prefix): the first one the
    /// kernel refused and every one after it were not sent (see <see cref="Send"/> for why a datagram is refused).
    /// </summary>
    internal int SendBatch(ReadOnlySpan<OutgoingDatagram> datagrams, IPEndPoint destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (datagrams.IsEmpty || Volatile.Read(ref _disposed) != 0) return 0;
        SocketAddress? address = AddressOf(destination);
        int sent = address is null ? 0 : _io.Send(datagrams, address);
        if (sent > 0) Interlocked.Add(ref _sent, sent);
        if (sent < datagrams.Length) Interlocked.Add(ref _sendFailures, datagrams.Length - sent);
        return sent;
    }

    /// <summary>Closes the socket, then waits for the receive loop and every claim's delivery loop to end.</summary>
    public async ValueTask DisposeAsync()
    {
        UdpClaim[] claims;
        lock (_claimsLock)
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
            claims = _claims;
        }
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            // Wakes a receive thread waiting in poll at once (Linux reports a shut-down socket readable, even UDP).
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // ENOTCONN for an unconnected UDP socket, after the wake-up was done.
        }
        _socket.Dispose();
        await _loop.ConfigureAwait(false); // it catches its own ends: cancellation, a closed socket
        foreach (UdpClaim claim in claims) await claim.DisposeAsync().ConfigureAwait(false);
        _io.Dispose(); // the receive loop, its only other user, has ended
        _stop.Dispose();
    }

    /// <summary>Stops routing to <paramref name="claim"/> (it may still get a datagram the loop was dispatching).</summary>
    internal void Release(UdpClaim claim)
    {
        lock (_claimsLock)
        {
            int i = Array.IndexOf(_claims, claim);
            if (i < 0) return;
            UdpClaim[] fewer = new UdpClaim[_claims.Length - 1];
            Array.Copy(_claims, 0, fewer, 0, i);
            Array.Copy(_claims, i + 1, fewer, i, _claims.Length - i - 1);
            _claims = fewer;
        }
    }

    /// <summary>A handler threw: counted and logged; the socket goes on serving the other protocols.</summary>
    internal void ReportHandlerError(UdpClaim claim, Exception ex)
    {
        Interlocked.Increment(ref _handlerErrors);
        _log?.Invoke($"UDP {LocalEndPoint}: the {claim.Name} handler failed: {ex.GetType().Name}: {ex.Message}");
    }

    /// <summary>
    /// The receive loop on a thread of its own, where the batch calls take every datagram: it waits in
    /// <see cref="Socket.Poll(int, SelectMode)"/> and drains each burst in place. A burst then costs one wake-up of
    /// this thread, where the async loop cost two (the runtime's event thread, then a pool thread), which is most of
    /// the kernel time a fast uTP connection spends (libtorrent runs its network on one thread for the same reason).
    /// </summary>
    private Task StartReceiveThread()
    {
        var ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                ReceiveOnThread();
            }
            finally
            {
                ended.TrySetResult();
            }
        }, maxStackSize: 256 * 1024)
        {
            IsBackground = true,
            Name = "UDP receive",
        };
        thread.Start();
        return ended.Task;
    }

    private void ReceiveOnThread()
    {
        CancellationToken stop = _stop.Token;
        while (!stop.IsCancellationRequested)
        {
            bool readable;
            try
            {
                // The timeout only bounds how long a missed wake-up could keep disposal waiting.
                readable = _socket.Poll(1_000_000, SelectMode.SelectRead);
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                return;
            }
            if (!readable || stop.IsCancellationRequested) continue;
            try
            {
                DrainBurst(stop);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // Handlers' exceptions are caught by their claims; anything else is a bug here, which must not end the
                // thread (and the process with it): log it, the next burst is served.
                _log?.Invoke($"UDP {LocalEndPoint}: receiving failed: {ex.GetType().Name}: {ex.Message}");
            }
        }
    }

    /// <summary>Takes the datagrams queued, in batches, until the kernel's queue is seen empty: then the protocols' end of burst.</summary>
    private void DrainBurst(CancellationToken stop)
    {
        bool drained;
        do
        {
            int count = _io.Receive(this, out drained);
            if (count == 0 && !drained) break; // an error the next wait reports, or not
        }
        while (!drained && !stop.IsCancellationRequested);
        if (drained)
        {
            foreach (UdpClaim claim in Volatile.Read(ref _claims)) claim.ReceiveIdle();
        }
    }

    /// <summary>The receive loop where a plain read may take a burst's first datagram (<see cref="ManagedUdpBatchIo"/>).</summary>
    private async Task ReceiveLoopAsync()
    {
        byte[] buffer = GC.AllocateUninitializedArray<byte>(65536, pinned: true);
        var address = new SocketAddress(_socket.AddressFamily);
        CancellationToken stop = _stop.Token;
        while (!stop.IsCancellationRequested)
        {
            int received;
            try
            {
                received = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, address, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException ex) when (ex.SocketErrorCode is not (SocketError.OperationAborted or SocketError.Shutdown or SocketError.NotSocket))
            {
                continue; // ICMP errors surface here on some platforms; the socket stays usable
            }
            catch (SocketException)
            {
                return;
            }
            Interlocked.Increment(ref _received);
            Dispatch(buffer.AsSpan(0, received), EndPointOf(address));
            DrainBurst(stop);
        }
    }

    void IReceivedDatagramSink.OnReceived(ReadOnlySpan<byte> datagram, SocketAddress source)
    {
        Interlocked.Increment(ref _received);
        Dispatch(datagram, EndPointOf(source));
    }

    private void Dispatch(ReadOnlySpan<byte> datagram, IPEndPoint source)
    {
        foreach (UdpClaim claim in Volatile.Read(ref _claims))
        {
            if (!claim.Accepts(datagram)) continue;
            claim.Deliver(datagram, source);
            return;
        }
        Interlocked.Increment(ref _unclaimed);
    }

    /// <summary>The endpoint of a received address, cached so a busy peer costs no allocation per datagram.</summary>
    private IPEndPoint EndPointOf(SocketAddress address)
    {
        if (_receiveEndPoints.TryGetValue(address, out IPEndPoint? endPoint)) return endPoint;
        if (_receiveEndPoints.Count >= MaxCachedEndPoints) _receiveEndPoints.Clear();
        var parsed = (IPEndPoint)new IPEndPoint(IPAddress.Any, 0).Create(address);
        if (parsed.Address.IsIPv4MappedToIPv6) parsed = new IPEndPoint(parsed.Address.MapToIPv4(), parsed.Port);
        var key = new SocketAddress(address.Family, address.Size);
        address.Buffer.Span[..address.Size].CopyTo(key.Buffer.Span);
        _receiveEndPoints[key] = parsed;
        return parsed;
    }

    /// <summary>The serialized form of a destination (cached); null for a family this socket cannot reach.</summary>
    private SocketAddress? AddressOf(IPEndPoint destination)
    {
        if (_sendAddresses.TryGetValue(destination, out SocketAddress? address)) return address;
        IPEndPoint target = destination;
        if (target.Address.IsIPv4MappedToIPv6 && _socket.AddressFamily == AddressFamily.InterNetwork)
        {
            target = new IPEndPoint(target.Address.MapToIPv4(), target.Port);
        }
        if (target.AddressFamily != _socket.AddressFamily) return null;
        if (_sendAddresses.Count >= MaxCachedEndPoints) _sendAddresses.Clear();
        address = target.Serialize();
        _sendAddresses[destination] = address;
        return address;
    }

    private static void TrySetBuffers(Socket socket)
    {
        try
        {
            socket.ReceiveBufferSize = KernelBufferSize;
            socket.SendBufferSize = KernelBufferSize;
        }
        catch (SocketException)
        {
            // The kernel's limits apply; the defaults still work, only bursts drop sooner.
        }
    }
}

/// <summary>What a <see cref="UdpSocket"/> has done.</summary>
/// <param name="Received">Datagrams received.</param>
/// <param name="Unclaimed">Received datagrams no claim accepted (dropped).</param>
/// <param name="Sent">Datagrams the kernel took.</param>
/// <param name="SendFailures">Datagrams dropped at send (full buffer, unreachable, wrong family).</param>
/// <param name="HandlerErrors">Datagrams whose handler threw.</param>
public readonly record struct UdpSocketCounters(long Received, long Unclaimed, long Sent, long SendFailures, long HandlerErrors);
