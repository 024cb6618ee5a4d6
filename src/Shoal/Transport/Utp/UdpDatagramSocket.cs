using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Shoal.Transport.Utp;

/// <summary>
/// A UDP socket as an <see cref="IUtpDatagramSocket"/>: one receive loop that allocates nothing per datagram (the
/// sender's address is read into a reused <see cref="SocketAddress"/> and mapped to a cached
/// <see cref="IPEndPoint"/>), and synchronous best-effort sends.
/// </summary>
public sealed class UdpDatagramSocket : IUtpDatagramSocket, IDisposable
{
    /// <summary>Endpoints remembered per direction; past it the cache starts over (bounded memory).</summary>
    private const int MaxCachedEndpoints = 4096;

    /// <summary>Kernel buffers asked for: a burst of a fast connection must not overflow them (the kernel may grant less).</summary>
    private const int KernelBufferSize = 4 * 1024 * 1024;

    private readonly Socket _socket;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<IPEndPoint, SocketAddress> _sendAddresses = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<SocketAddress, IPEndPoint> _receiveEndpoints = [];
    private Task? _loop;
    private int _disposed;

    /// <summary>Binds a UDP socket to <paramref name="localEndPoint"/> (port 0 picks a free one; [::] also takes IPv4).</summary>
    /// <exception cref="SocketException">The address cannot be bound.</exception>
    public UdpDatagramSocket(IPEndPoint localEndPoint)
    {
        ArgumentNullException.ThrowIfNull(localEndPoint);
        _socket = new Socket(localEndPoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (localEndPoint.AddressFamily == AddressFamily.InterNetworkV6)
                _socket.DualMode = localEndPoint.Address.Equals(IPAddress.IPv6Any);
            TrySetBuffers(_socket);
            _socket.Bind(localEndPoint);
        }
        catch
        {
            _socket.Dispose();
            throw;
        }
        LocalEndPoint = (IPEndPoint)_socket.LocalEndPoint!;
    }

    /// <inheritdoc />
    public IPEndPoint LocalEndPoint { get; }

    /// <inheritdoc />
    public void Send(ReadOnlySpan<byte> datagram, IPEndPoint destination)
    {
        if (!_sendAddresses.TryGetValue(destination, out SocketAddress? address))
        {
            IPEndPoint target = destination;
            if (_socket.AddressFamily == AddressFamily.InterNetworkV6 && destination.AddressFamily == AddressFamily.InterNetwork)
            {
                if (!_socket.DualMode) return;
                target = new IPEndPoint(destination.Address.MapToIPv6(), destination.Port);
            }
            else if (destination.AddressFamily != _socket.AddressFamily)
            {
                return; // an IPv6 peer on an IPv4 socket: unreachable from here
            }
            if (_sendAddresses.Count >= MaxCachedEndpoints) _sendAddresses.Clear();
            address = target.Serialize();
            _sendAddresses[destination] = address;
        }
        try
        {
            _socket.SendTo(datagram, SocketFlags.None, address);
        }
        catch (SocketException)
        {
            // Full buffers, unreachable hosts: a lost datagram, which uTP recovers from.
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <inheritdoc />
    public void Start(IUtpDatagramReceiver receiver)
    {
        ArgumentNullException.ThrowIfNull(receiver);
        if (_loop is not null) throw new InvalidOperationException("already started");
        _loop = Task.Run(() => ReceiveLoopAsync(receiver, _stop.Token));
    }

    private async Task ReceiveLoopAsync(IUtpDatagramReceiver receiver, CancellationToken cancellationToken)
    {
        byte[] buffer = GC.AllocateUninitializedArray<byte>(65536, pinned: true);
        var address = new SocketAddress(_socket.AddressFamily);
        while (!cancellationToken.IsCancellationRequested)
        {
            int received;
            try
            {
                received = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, address, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                // ICMP errors surface here on some platforms; the socket stays usable.
                continue;
            }

            try
            {
                receiver.OnDatagram(buffer.AsSpan(0, received), EndpointOf(address));
                if (_socket.Available == 0) receiver.OnReceiveIdle();
            }
            catch (ObjectDisposedException)
            {
                return;
            }
        }
    }

    /// <summary>The endpoint for a received address, cached so a busy peer costs no allocation per datagram.</summary>
    private IPEndPoint EndpointOf(SocketAddress address)
    {
        if (_receiveEndpoints.TryGetValue(address, out IPEndPoint? endpoint)) return endpoint;
        if (_receiveEndpoints.Count >= MaxCachedEndpoints) _receiveEndpoints.Clear();
        var parsed = (IPEndPoint)new IPEndPoint(IPAddress.Any, 0).Create(address);
        if (parsed.Address.IsIPv4MappedToIPv6) parsed = new IPEndPoint(parsed.Address.MapToIPv4(), parsed.Port);
        var key = new SocketAddress(address.Family, address.Size);
        address.Buffer.Span[..address.Size].CopyTo(key.Buffer.Span);
        _receiveEndpoints[key] = parsed;
        return parsed;
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

    /// <inheritdoc />
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _stop.Cancel();
        _socket.Dispose();
        try
        {
            _loop?.Wait(TimeSpan.FromSeconds(2));
        }
        catch (AggregateException)
        {
        }
        _stop.Dispose();
    }
}
