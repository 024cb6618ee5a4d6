using System.Net;
using System.Net.Sockets;

namespace Shoal.Dht;

/// <summary>A UDP socket as an <see cref="IDatagramTransport"/>: one receive loop, synchronous best-effort sends.</summary>
public sealed class UdpDatagramTransport : IDatagramTransport
{
    private readonly Socket _socket;
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;

    /// <summary>Binds a UDP socket to <paramref name="localEndPoint"/> (port 0 picks a free port).</summary>
    /// <exception cref="SocketException">The address cannot be bound.</exception>
    public UdpDatagramTransport(IPEndPoint localEndPoint)
    {
        ArgumentNullException.ThrowIfNull(localEndPoint);
        _socket = new Socket(localEndPoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            // BEP 32: the IPv6 DHT is its own network with its own socket; a dual-mode socket would mix IPv4 traffic
            // into it and would collide with the IPv4 node bound to the same port.
            if (localEndPoint.AddressFamily == AddressFamily.InterNetworkV6) _socket.DualMode = false;
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
        ArgumentNullException.ThrowIfNull(destination);
        if (destination.AddressFamily != _socket.AddressFamily) return;
        try
        {
            _socket.SendTo(datagram, SocketFlags.None, destination);
        }
        catch (SocketException)
        {
            // Unreachable hosts, full buffers: a lost datagram, which the DHT tolerates by design.
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <inheritdoc />
    public void Start(DatagramReceiver receiver)
    {
        ArgumentNullException.ThrowIfNull(receiver);
        if (_loop is not null) throw new InvalidOperationException("already started");
        _loop = Task.Run(() => ReceiveLoopAsync(receiver, _stop.Token));
    }

    private async Task ReceiveLoopAsync(DatagramReceiver receiver, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[65536];
        EndPoint any = _socket.AddressFamily == AddressFamily.InterNetworkV6 ? new IPEndPoint(IPAddress.IPv6Any, 0) : new IPEndPoint(IPAddress.Any, 0);
        while (!cancellationToken.IsCancellationRequested)
        {
            SocketReceiveFromResult result;
            try
            {
                result = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, any, cancellationToken).ConfigureAwait(false);
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
            receiver(buffer.AsSpan(0, result.ReceivedBytes), (IPEndPoint)result.RemoteEndPoint);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
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
