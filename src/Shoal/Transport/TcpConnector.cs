using System.Buffers;
using System.Net;

namespace Shoal.Transport;

/// <summary>Reaches peers over TCP: one <see cref="SocketTransport"/> per connection, timing out on the session's clock.</summary>
public sealed class TcpConnector : IPeerConnector
{
    private readonly MemoryPool<byte>? _pool;
    private readonly TimeProvider _time;
    private readonly TimeSpan _timeout;

    /// <summary>
    /// Creates the connector. <paramref name="pool"/> supplies the pipes' buffers (null: the shared pool);
    /// <paramref name="timeout"/> bounds each connect, on <paramref name="time"/>'s clock.
    /// </summary>
    public TcpConnector(MemoryPool<byte>? pool, TimeProvider time, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        _pool = pool;
        _time = time;
        _timeout = timeout;
    }

    /// <summary>The name TCP is remembered by.</summary>
    public const string TcpName = "tcp";

    /// <inheritdoc />
    public string Name => TcpName;

    /// <inheritdoc />
    public bool CanReach(IPEndPoint endPoint) => true;

    /// <inheritdoc />
    public async ValueTask<PeerTransport> ConnectAsync(IPEndPoint endPoint, CancellationToken cancellationToken) =>
        await SocketTransport.ConnectAsync(endPoint, _timeout, _pool, _time, cancellationToken).ConfigureAwait(false);
}
