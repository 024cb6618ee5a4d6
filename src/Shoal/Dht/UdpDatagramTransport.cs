using System.Net;
using Shoal.Transport.Udp;

namespace Shoal.Dht;

/// <summary>
/// The DHT's share of a UDP port: a <see cref="UdpClaim"/> for the KRPC datagrams (bencoded dictionaries, see
/// <see cref="DatagramShapes.IsKrpc"/>) of a <see cref="UdpSocket"/> — the session's shared socket, which uTP uses
/// too, or a socket of its own for a standalone node. KRPC datagrams are queued (at most <see cref="QueueCapacity"/>)
/// and handed to the node on the claim's own loop, so decoding them never holds up uTP on the receive loop and a
/// query flood is dropped at the queue.
/// </summary>
public sealed class UdpDatagramTransport : IDatagramTransport
{
    /// <summary>KRPC datagrams waiting for the node at most; more are dropped (a flood).</summary>
    public const int QueueCapacity = 1024;

    private readonly UdpSocket _socket;
    private readonly bool _ownsSocket;
    private UdpClaim? _claim;
    private int _disposed;

    /// <summary>Binds a socket of its own to <paramref name="localEndPoint"/> (port 0 picks a free port), closed with the transport.</summary>
    /// <exception cref="System.Net.Sockets.SocketException">The address cannot be bound.</exception>
    public UdpDatagramTransport(IPEndPoint localEndPoint)
    {
        ArgumentNullException.ThrowIfNull(localEndPoint);
        _socket = UdpSocket.Bind(localEndPoint);
        _ownsSocket = true;
    }

    /// <summary>Shares <paramref name="socket"/>, which stays open (its owner closes it) when the transport is disposed.</summary>
    public UdpDatagramTransport(UdpSocket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        _socket = socket;
    }

    /// <inheritdoc />
    public IPEndPoint LocalEndPoint => _socket.LocalEndPoint;

    /// <inheritdoc />
    public void Send(ReadOnlySpan<byte> datagram, IPEndPoint destination) => _claim?.Send(datagram, destination);

    /// <inheritdoc />
    public void Start(DatagramReceiver receiver)
    {
        ArgumentNullException.ThrowIfNull(receiver);
        if (_claim is not null) throw new InvalidOperationException("already started");
        _claim = _socket.Claim("KRPC", static d => DatagramShapes.IsKrpc(d) && d.Length <= KrpcCodec.MaxPacketLength, new Handler(receiver), QueueCapacity);
    }

    /// <summary>Gives the KRPC datagrams up (waiting for the delivery loop to end), and closes the socket if it is the transport's own.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        if (_claim is not null) await _claim.DisposeAsync().ConfigureAwait(false);
        if (_ownsSocket) await _socket.DisposeAsync().ConfigureAwait(false);
    }

    private sealed class Handler(DatagramReceiver receiver) : IUdpDatagramHandler
    {
        public void OnDatagram(ReadOnlySpan<byte> datagram, IPEndPoint source) => receiver(datagram, source);

        public void OnReceiveIdle()
        {
        }
    }
}
