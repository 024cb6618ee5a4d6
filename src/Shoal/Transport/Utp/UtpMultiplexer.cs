using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Shoal.Transport.Udp;

namespace Shoal.Transport.Utp;

/// <summary>
/// Many uTP connections over one UDP port: demultiplexes incoming packets by sender and connection id, answers
/// SYNs with new connections (handed out by <see cref="AcceptAsync"/>), dials with <see cref="ConnectAsync"/>, and
/// runs the timers of every connection from one clock tick. Each connection is a <see cref="UtpTransport"/>, a
/// <see cref="PeerTransport"/> like a TCP connection. The port is the session's shared <see cref="UdpSocket"/>: the
/// multiplexer claims the datagrams shaped like uTP (<see cref="DatagramShapes.IsUtp"/>) and leaves KRPC to the DHT.
/// </summary>
/// <remarks>
/// Threads: the socket's receive loop processes each packet under its connection's gate (no hop to another
/// thread: the claim has no queue) and, when the socket has drained, sends one ack per connection that received
/// data and flushes what was delivered to each application. The tick timer and the applications' pumps take the
/// same gates. Nothing waits inside a gate and no application code runs inside one (pipe continuations go to the
/// thread pool).
/// </remarks>
public sealed class UtpMultiplexer : IUdpDatagramHandler, IUtpConnectionHost, IAsyncDisposable
{
    /// <summary>RESETs answering packets of unknown connections, at most per second (they cost the sender nothing).</summary>
    private const int ResetsPerSecond = 100;

    /// <summary>A socket that never reports idle still gets its acks flushed after this many datagrams.</summary>
    private const int MaxDatagramsBetweenFlushes = 64;

    private readonly IUtpDatagramSender _socket;
    private readonly UdpClaim? _claim;
    private readonly UdpSocket? _ownedSocket;
    private readonly UtpOptions _options;
    private readonly MemoryPool<byte> _pool;
    private readonly UtpConnectionSettings _settingsV4;
    private readonly UtpConnectionSettings _settingsV6;
    private readonly PacketBufferPool _buffers;
    private readonly ConcurrentDictionary<ConnectionKey, UtpTransport> _connections = new();
    private readonly Channel<UtpTransport> _accepted;
    private readonly Random _random;
    private readonly Lock _randomGate = new();
    private readonly long _epoch;

    private readonly ITimer _tickTimer;
    private readonly Lock _tickGate = new();
    private bool _ticking;
    private int _tickRunning;

    private readonly ITimer _wakeTimer;
    private readonly Lock _wakeGate = new();
    private List<UtpConnection> _wakeList = [];
    private List<UtpConnection> _wakeSpare = [];
    private long _wakeDue = long.MaxValue;
    private int _wakeRunning;

    // Receive loop only.
    private readonly List<UtpTransport> _toFlush = [];
    private readonly HashSet<UtpTransport> _toFlushSet = new(ReferenceEqualityComparer.Instance);
    private int _datagramsSinceFlush;
    private long _resetWindowStart;
    private int _resetsInWindow;

    private readonly Lock _statisticsGate = new();
    private UtpConnectionStatistics _closedStatistics;
    private long _invalidDatagrams;
    private long _filteredSyns;
    private int _disposed;

    /// <summary>
    /// Runs uTP on <paramref name="socket"/> (the session's shared UDP socket, which the caller keeps owning): claims
    /// its uTP-shaped datagrams, handled in place on its receive loop.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The socket is disposed.</exception>
    public UtpMultiplexer(UdpSocket socket, UtpOptions? options = null) : this(socket, options, owned: false)
    {
    }

    private UtpMultiplexer(UdpSocket socket, UtpOptions? options, bool owned) : this(new ClaimSender(socket), options)
    {
        _ownedSocket = owned ? socket : null;
        _claim = socket.Claim("uTP", DatagramShapes.IsUtp, this);
        ((ClaimSender)_socket).Claim = _claim;
    }

    /// <summary>
    /// Runs uTP over <paramref name="sender"/>; whoever owns the datagrams' way in calls <see cref="OnDatagram"/> and
    /// <see cref="OnReceiveIdle"/> (simulations, tests that drop packets on purpose).
    /// </summary>
    internal UtpMultiplexer(IUtpDatagramSender sender, UtpOptions? options)
    {
        ArgumentNullException.ThrowIfNull(sender);
        options ??= new UtpOptions();
        options.Validate();
        _socket = sender;
        _options = options;
        _pool = options.Memory ?? MemoryPool<byte>.Shared;
        _settingsV4 = UtpConnectionSettings.From(options, AddressFamily.InterNetwork);
        _settingsV6 = UtpConnectionSettings.From(options, AddressFamily.InterNetworkV6);
        _buffers = new PacketBufferPool(Math.Max(2048, options.MaxPacketSize));
        _random = options.RandomSeed is { } seed ? new Random(seed) : new Random();
        _accepted = Channel.CreateBounded<UtpTransport>(new BoundedChannelOptions(options.AcceptBacklog)
        {
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _epoch = options.Time.GetTimestamp();
        _tickTimer = options.Time.CreateTimer(_ => OnTick(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _wakeTimer = options.Time.CreateTimer(_ => OnWakeTimer(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>
    /// Binds a UDP socket of its own to <paramref name="localEndPoint"/> and runs uTP on it (tools and tests; a session
    /// runs uTP on its shared socket instead).
    /// </summary>
    /// <exception cref="SocketException">The address cannot be bound.</exception>
    public static UtpMultiplexer Bind(IPEndPoint localEndPoint, UtpOptions? options = null)
    {
        UdpSocket socket = UdpSocket.Bind(localEndPoint, options?.Log);
        try
        {
            return new UtpMultiplexer(socket, options, owned: true);
        }
        catch
        {
            socket.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
    }

    /// <summary>The UDP endpoint connections arrive on.</summary>
    public IPEndPoint LocalEndPoint => _socket.LocalEndPoint;

    /// <summary>Connections open, opening or closing.</summary>
    public int ConnectionCount => _connections.Count;

    /// <summary>Datagrams that were not valid uTP packets.</summary>
    public long InvalidDatagrams => Interlocked.Read(ref _invalidDatagrams);

    /// <summary>Unsolicited SYNs ignored because <see cref="UtpOptions.AcceptFilter"/> refused them.</summary>
    public long FilteredSyns => Interlocked.Read(ref _filteredSyns);

    /// <summary>Counters summed over every connection, open and closed.</summary>
    public UtpConnectionStatistics Statistics
    {
        get
        {
            UtpConnectionStatistics total;
            lock (_statisticsGate) total = _closedStatistics;
            foreach (UtpTransport transport in _connections.Values)
            {
                lock (transport.Connection.Gate) total.Add(transport.Connection.Statistics);
            }
            return total;
        }
    }

    internal TimeProvider Time => _options.Time;

    /// <summary>Microseconds on the multiplexer's clock (starting at one second, so timestamps are never 0 at first).</summary>
    internal long NowMicros => _options.Time.GetElapsedTime(_epoch).Ticks / (TimeSpan.TicksPerMillisecond / 1000) + 1_000_000;

    /// <summary>
    /// Dials <paramref name="remote"/> over uTP and completes when the peer answered the SYN.
    /// </summary>
    /// <exception cref="TimeoutException">No answer within <see cref="UtpOptions.ConnectTimeout"/>.</exception>
    /// <exception cref="SocketException">
    /// The peer refused (answered with a RESET), or <paramref name="remote"/> is of an address family this port's socket
    /// does not speak.
    /// </exception>
    /// <exception cref="IOException">Too many connections are open.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async ValueTask<UtpTransport> ConnectAsync(IPEndPoint remote, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(remote);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        cancellationToken.ThrowIfCancellationRequested();
        remote = Normalize(remote);
        if (remote.AddressFamily != _socket.LocalEndPoint.AddressFamily)
            throw new SocketException((int)SocketError.AddressFamilyNotSupported); // this port's socket cannot reach it
        if (_connections.Count >= _options.MaxConnections)
            throw new IOException($"cannot dial {remote} over uTP: {_connections.Count} connections are open already");

        UtpTransport transport;
        while (true)
        {
            ushort receiveId;
            ushort sequence;
            lock (_randomGate)
            {
                receiveId = (ushort)_random.Next(0x10000);
                sequence = (ushort)_random.Next(0x10000);
            }
            var key = new ConnectionKey(remote, receiveId);
            if (_connections.ContainsKey(key)) continue;
            transport = UtpTransport.CreateOutgoing(this, SettingsFor(remote), remote, receiveId, sequence, _pool, _options.SendBufferSize);
            if (_connections.TryAdd(key, transport)) break;
            transport.Abort();
        }
        EnsureTicking();
        lock (transport.Connection.Gate) transport.Connection.Connect(NowMicros);
        try
        {
            await transport.Connected.WaitAsync(cancellationToken).ConfigureAwait(false);
            return transport;
        }
        catch
        {
            await transport.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Waits for the next incoming connection.</summary>
    /// <exception cref="ChannelClosedException">The multiplexer was disposed.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public ValueTask<UtpTransport> AcceptAsync(CancellationToken cancellationToken = default) =>
        _accepted.Reader.ReadAsync(cancellationToken);

    /// <inheritdoc />
    public void OnDatagram(ReadOnlySpan<byte> datagram, IPEndPoint source)
    {
        if (Volatile.Read(ref _disposed) != 0) return;
        if (!UtpPacket.TryParse(datagram, out UtpPacket packet))
        {
            Interlocked.Increment(ref _invalidDatagrams);
            return;
        }
        long now = NowMicros;
        if (packet.Type == UtpPacketType.Syn)
        {
            // A SYN carries the initiator's receive id; the connection it opened here is keyed by that plus one.
            if (_connections.TryGetValue(new ConnectionKey(source, (ushort)(packet.ConnectionId + 1)), out UtpTransport? existing))
                Deliver(existing, packet, now);
            else
                Accept(packet, source, now);
        }
        else if (_connections.TryGetValue(new ConnectionKey(source, packet.ConnectionId), out UtpTransport? transport))
        {
            Deliver(transport, packet, now);
        }
        else if (packet.Type == UtpPacketType.Reset)
        {
            // libutp answers with the id it received (our send id), libtorrent with our receive id: take either.
            if (FindBySendId(source, packet.ConnectionId) is { } target) Deliver(target, packet, now);
        }
        else
        {
            SendReset(packet, source, now);
        }

        if (++_datagramsSinceFlush >= MaxDatagramsBetweenFlushes) OnReceiveIdle();
    }

    /// <inheritdoc />
    public void OnReceiveIdle()
    {
        _datagramsSinceFlush = 0;
        if (_toFlush.Count == 0) return;
        long now = NowMicros;
        foreach (UtpTransport transport in _toFlush)
        {
            lock (transport.Connection.Gate)
            {
                transport.Connection.FlushAck(now);
                transport.FlushReceived();
            }
        }
        _toFlush.Clear();
        _toFlushSet.Clear();
    }

    /// <summary>Closes every connection at once (RESET) and stops; the socket too if the multiplexer bound it.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _accepted.Writer.TryComplete();
        while (_accepted.Reader.TryRead(out UtpTransport? waiting)) waiting.Abort();
        foreach (UtpTransport transport in _connections.Values) transport.Abort();
        await _tickTimer.DisposeAsync().ConfigureAwait(false);
        await _wakeTimer.DisposeAsync().ConfigureAwait(false);
        if (_claim is not null) await _claim.DisposeAsync().ConfigureAwait(false);
        if (_ownedSocket is not null) await _ownedSocket.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Queues <paramref name="transport"/> for the ack and flush at the end of this burst (receive loop only).</summary>
    internal void ScheduleFlush(UtpTransport transport)
    {
        if (_toFlushSet.Add(transport)) _toFlush.Add(transport);
    }

    internal void Log(string message) => _options.Log?.Invoke(message);

    PacketBufferPool IUtpConnectionHost.Buffers => _buffers;

    bool IUtpConnectionHost.SendDatagram(ReadOnlySpan<byte> datagram, IPEndPoint remote) => _socket.Send(datagram, remote);

    int IUtpConnectionHost.SendDatagrams(ReadOnlySpan<OutgoingDatagram> datagrams, IPEndPoint remote) => _socket.SendBatch(datagrams, remote);

    /// <summary>Sends through the claim once it exists (it is made after the multiplexer, which is its handler).</summary>
    private sealed class ClaimSender(UdpSocket socket) : IUtpDatagramSender
    {
        public UdpClaim? Claim { get; set; }

        public IPEndPoint LocalEndPoint => socket.LocalEndPoint;

        public bool Send(ReadOnlySpan<byte> datagram, IPEndPoint destination) => Claim?.Send(datagram, destination) ?? false;

        public int SendBatch(ReadOnlySpan<OutgoingDatagram> datagrams, IPEndPoint destination) => Claim?.SendBatch(datagrams, destination) ?? 0;
    }

    void IUtpConnectionHost.RequestWakeup(UtpConnection connection, long atMicros)
    {
        lock (_wakeGate)
        {
            if (!_wakeList.Contains(connection)) _wakeList.Add(connection);
            if (atMicros >= _wakeDue) return;
            _wakeDue = atMicros;
            long delay = Math.Max(0, atMicros - NowMicros);
            _wakeTimer.Change(TimeSpan.FromTicks(delay * (TimeSpan.TicksPerMillisecond / 1000)), Timeout.InfiniteTimeSpan);
        }
    }

    void IUtpConnectionHost.OnConnectionClosed(UtpConnection connection)
    {
        var key = new ConnectionKey(connection.Remote, connection.ReceiveId);
        if (_connections.TryGetValue(key, out UtpTransport? transport) && transport.Connection == connection)
            _connections.TryRemove(new KeyValuePair<ConnectionKey, UtpTransport>(key, transport));
        lock (_statisticsGate) _closedStatistics.Add(connection.Statistics);
    }

    private void Deliver(UtpTransport transport, in UtpPacket packet, long now)
    {
        lock (transport.Connection.Gate) transport.Connection.Receive(packet, now);
        ScheduleFlush(transport);
    }

    private void Accept(in UtpPacket syn, IPEndPoint source, long now)
    {
        if (!_options.AcceptIncoming) return;
        if (_options.AcceptFilter is { } filter && !filter(source) && !HasOutgoingConnectionTo(source))
        {
            Interlocked.Increment(ref _filteredSyns);
            return;
        }
        // At the bounds a SYN is ignored, as libtorrent does under a SYN flood: the dialler times out and tries TCP.
        if (_connections.Count >= _options.MaxConnections || _accepted.Reader.Count >= _options.AcceptBacklog)
        {
            Log($"uTP SYN from {source} ignored: {_connections.Count} connections, {_accepted.Reader.Count} waiting to be accepted");
            return;
        }
        ushort sequence;
        lock (_randomGate) sequence = (ushort)_random.Next(0x10000);
        var transport = UtpTransport.CreateIncoming(this, SettingsFor(source), source, syn, sequence, now, _pool, _options.SendBufferSize);
        if (!_connections.TryAdd(new ConnectionKey(source, transport.Connection.ReceiveId), transport))
        {
            transport.Abort();
            return;
        }
        if (!_accepted.Writer.TryWrite(transport))
        {
            transport.Abort();
            return;
        }
        EnsureTicking();
        ScheduleFlush(transport); // the STATE that completes the handshake goes out with this burst's acks
    }

    /// <summary>Whether we dial (or are connected to, by our dial) <paramref name="remote"/>: its SYN is then a simultaneous open.</summary>
    private bool HasOutgoingConnectionTo(IPEndPoint remote)
    {
        // Scans every connection, but only for SYNs the filter refused: never on the data path.
        foreach (UtpTransport transport in _connections.Values)
        {
            UtpConnection connection = transport.Connection;
            if (!connection.IsIncoming && connection.State != UtpConnectionState.Closed && connection.Remote.Equals(remote)) return true;
        }
        return false;
    }

    private UtpTransport? FindBySendId(IPEndPoint source, ushort sendId)
    {
        foreach (ushort receiveId in (ReadOnlySpan<ushort>)[(ushort)(sendId + 1), (ushort)(sendId - 1)])
        {
            if (_connections.TryGetValue(new ConnectionKey(source, receiveId), out UtpTransport? transport) && transport.Connection.SendId == sendId)
                return transport;
        }
        return null;
    }

    /// <summary>Tells the sender of a packet for a connection we do not know (we restarted, or it closed) to drop it.</summary>
    private void SendReset(in UtpPacket packet, IPEndPoint source, long now)
    {
        if (now - _resetWindowStart >= 1_000_000)
        {
            _resetWindowStart = now;
            _resetsInWindow = 0;
        }
        if (++_resetsInWindow > ResetsPerSecond) return;
        ushort sequence;
        lock (_randomGate) sequence = (ushort)_random.Next(0x10000);
        Span<byte> reset = stackalloc byte[UtpPacket.HeaderLength];
        UtpPacket.WriteHeader(reset, UtpPacketType.Reset, 0, packet.ConnectionId, (uint)now, 0, 0, sequence, packet.SequenceNumber);
        _socket.Send(reset, source);
    }

    private void EnsureTicking()
    {
        lock (_tickGate)
        {
            if (_ticking || Volatile.Read(ref _disposed) != 0) return;
            _ticking = true;
            _tickTimer.Change(_options.TickInterval, _options.TickInterval);
        }
    }

    private void OnTick()
    {
        if (Interlocked.Exchange(ref _tickRunning, 1) != 0) return;
        try
        {
            long now = NowMicros;
            foreach (KeyValuePair<ConnectionKey, UtpTransport> entry in _connections)
            {
                UtpConnection connection = entry.Value.Connection;
                lock (connection.Gate) connection.Tick(now);
            }
            if (!_connections.IsEmpty) return;
            lock (_tickGate)
            {
                // Nothing left to time: an idle multiplexer costs no wake-ups. EnsureTicking restarts it.
                if (!_connections.IsEmpty || !_ticking) return;
                _ticking = false;
                _tickTimer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            }
        }
        catch (ObjectDisposedException)
        {
        }
        finally
        {
            Volatile.Write(ref _tickRunning, 0);
        }
    }

    private void OnWakeTimer()
    {
        if (Interlocked.Exchange(ref _wakeRunning, 1) != 0)
        {
            // The previous round still runs (a slow thread pool): look again shortly.
            lock (_wakeGate) _wakeTimer.Change(TimeSpan.FromMilliseconds(1), Timeout.InfiniteTimeSpan);
            return;
        }
        try
        {
            List<UtpConnection> due;
            lock (_wakeGate)
            {
                due = _wakeList;
                _wakeList = _wakeSpare;
                _wakeSpare = due;
                _wakeDue = long.MaxValue;
            }
            long now = NowMicros;
            foreach (UtpConnection connection in due)
            {
                lock (connection.Gate) connection.OnWakeup(now);
            }
            due.Clear();
        }
        catch (ObjectDisposedException)
        {
        }
        finally
        {
            Volatile.Write(ref _wakeRunning, 0);
        }
    }

    private UtpConnectionSettings SettingsFor(IPEndPoint remote) =>
        remote.AddressFamily == AddressFamily.InterNetworkV6 ? _settingsV6 : _settingsV4;

    private static IPEndPoint Normalize(IPEndPoint endPoint) =>
        endPoint.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(endPoint.Address.MapToIPv4(), endPoint.Port) : endPoint;

    private readonly record struct ConnectionKey(IPEndPoint Remote, ushort Id);
}
