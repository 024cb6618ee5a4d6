using System.Buffers;
using System.Net;
using System.Net.Sockets;

namespace Shoal.Transport;

/// <summary>Accepts incoming TCP peer connections on one endpoint.</summary>
public sealed class PeerListener : IPeerAcceptor
{
    private readonly Socket _socket;
    private readonly MemoryPool<byte>? _pool;
    private readonly TimeProvider _time;
    private int _disposed;

    private PeerListener(Socket socket, IPEndPoint localEndPoint, MemoryPool<byte>? pool, TimeProvider time)
    {
        _socket = socket;
        _pool = pool;
        _time = time;
        LocalEndPoint = localEndPoint;
    }

    /// <summary>The bound endpoint (with the real port when bound to port 0).</summary>
    public IPEndPoint LocalEndPoint { get; }

    /// <inheritdoc />
    public string Name => TcpConnector.TcpName;

    /// <summary>Binds and listens.</summary>
    /// <exception cref="SocketException">The address is in use or cannot be bound.</exception>
    public static PeerListener Start(IPEndPoint bind, int backlog = 128) => Start(bind, backlog, pool: null);

    /// <summary>Binds and listens; accepted transports take their pipe buffers from <paramref name="pool"/>.</summary>
    /// <exception cref="SocketException">The address is in use or cannot be bound.</exception>
    public static PeerListener Start(IPEndPoint bind, int backlog, MemoryPool<byte>? pool) => Start(bind, backlog, pool, TimeProvider.System);

    /// <summary>Binds and listens; accepted transports time out (disposal's drain) on <paramref name="time"/>'s clock.</summary>
    /// <exception cref="SocketException">The address is in use or cannot be bound.</exception>
    public static PeerListener Start(IPEndPoint bind, int backlog, MemoryPool<byte>? pool, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(bind);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(backlog);
        var socket = new Socket(bind.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (bind.AddressFamily == AddressFamily.InterNetworkV6 && bind.Address.Equals(IPAddress.IPv6Any))
                socket.DualMode = true; // [::] also accepts IPv4 peers
            socket.Bind(bind);
            socket.Listen(backlog);
            return new PeerListener(socket, (IPEndPoint)socket.LocalEndPoint!, pool, time);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Waits for the next incoming connection.</summary>
    /// <exception cref="ObjectDisposedException">The listener was disposed.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async ValueTask<SocketTransport> AcceptAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        Socket accepted;
        try
        {
            accepted = await _socket.AcceptAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException ex) when (Volatile.Read(ref _disposed) != 0)
        {
            throw new ObjectDisposedException(nameof(PeerListener), ex);
        }

        try
        {
            return SocketTransport.FromAccepted(accepted, _pool, _time);
        }
        catch
        {
            accepted.Dispose(); // e.g. the peer already disconnected and RemoteEndPoint is gone
            throw;
        }
    }

    async ValueTask<PeerTransport> IPeerAcceptor.AcceptAsync(CancellationToken cancellationToken) =>
        await AcceptAsync(cancellationToken).ConfigureAwait(false);

    /// <summary>Stops listening; pending accepts end with <see cref="ObjectDisposedException"/>.</summary>
    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0) _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
