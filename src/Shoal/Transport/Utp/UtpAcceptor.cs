using System.Net;
using System.Threading.Channels;

namespace Shoal.Transport.Utp;

/// <summary>
/// Incoming uTP connections of one multiplexer as an <see cref="IPeerAcceptor"/>, so the session accepts them in the
/// same loop shape as TCP ones. Disposing it stops the accepting only: the multiplexer (and the connections on it)
/// belong to the session, which closes them after its torrents.
/// </summary>
public sealed class UtpAcceptor(UtpMultiplexer multiplexer) : IPeerAcceptor
{
    private readonly CancellationTokenSource _stop = new();
    private int _disposed;

    /// <inheritdoc />
    public string Name => UtpConnector.UtpName;

    /// <inheritdoc />
    public IPEndPoint LocalEndPoint => multiplexer.LocalEndPoint;

    /// <inheritdoc />
    public async ValueTask<PeerTransport> AcceptAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token);
        try
        {
            return await multiplexer.AcceptAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new ObjectDisposedException(nameof(UtpAcceptor));
        }
        catch (ChannelClosedException ex)
        {
            throw new ObjectDisposedException(nameof(UtpMultiplexer), ex);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await _stop.CancelAsync().ConfigureAwait(false);
    }
}
