using System.Buffers;
using System.IO.Pipelines;
using System.Net;

namespace Shoal.Transport;

/// <summary>
/// Two connected <see cref="PeerTransport"/>s in memory, for tests and simulations. Each direction is
/// an outbound pipe, a pump task and the other side's inbound pipe, so each side owns its own pipes and
/// <see cref="Abort"/> behaves like a TCP reset (the other side's reads fail with an
/// <see cref="IOException"/>) without ever touching a pipe end that application code is using.
/// </summary>
public sealed class InMemoryTransport : PeerTransport
{
    private const int PauseThreshold = SocketTransport.PauseThreshold;

    private readonly Pipe _inbound;
    private readonly Pipe _outbound;
    private readonly IPEndPoint _remote;
    private InMemoryTransport _peer = null!;
    private Task _pumpOut = Task.CompletedTask;
    private volatile bool _aborted;
    private int _disposed;

    private InMemoryTransport(IPEndPoint remote)
    {
        _remote = remote;
        _inbound = new Pipe(CreateOptions());
        _outbound = new Pipe(CreateOptions());
    }

    /// <inheritdoc />
    public override PipeReader Input => _inbound.Reader;

    /// <inheritdoc />
    public override PipeWriter Output => _outbound.Writer;

    /// <inheritdoc />
    public override IPEndPoint RemoteEndPoint => _remote;

    /// <summary>
    /// Creates two connected transports. <paramref name="firstRemote"/> is what the first one reports as
    /// its <see cref="RemoteEndPoint"/> (the second's address), and the other way round.
    /// </summary>
    public static (InMemoryTransport First, InMemoryTransport Second) CreatePair(
        IPEndPoint? firstRemote = null, IPEndPoint? secondRemote = null)
    {
        var first = new InMemoryTransport(firstRemote ?? new IPEndPoint(IPAddress.Loopback, 50002));
        var second = new InMemoryTransport(secondRemote ?? new IPEndPoint(IPAddress.Loopback, 50001));
        first._peer = second;
        second._peer = first;
        first._pumpOut = first.PumpAsync();
        second._pumpOut = second.PumpAsync();
        return (first, second);
    }

    /// <inheritdoc />
    public override void Abort()
    {
        if (_aborted) return;
        _aborted = true;
        // Only the thread-safe cancel calls touch pipes here; the pumps do the completing.
        _outbound.Reader.CancelPendingRead();
        _peer._inbound.Writer.CancelPendingFlush();
        _peer._outbound.Reader.CancelPendingRead();
        _inbound.Writer.CancelPendingFlush();
    }

    /// <inheritdoc />
    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _inbound.Reader.Complete();
        _outbound.Writer.Complete();
        try
        {
            await _pumpOut.WaitAsync(DrainTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // The peer is not reading; drop the rest.
        }

        Abort();
        await _pumpOut.ConfigureAwait(false);
        await _peer._pumpOut.ConfigureAwait(false);
    }

    private static PipeOptions CreateOptions() => new(MemoryPool<byte>.Shared, PipeScheduler.ThreadPool,
        PipeScheduler.ThreadPool, PauseThreshold, PauseThreshold / 2, 4096, useSynchronizationContext: false);

    private bool EitherAborted => _aborted || _peer._aborted;

    /// <summary>Moves bytes from this side's output to the peer's input.</summary>
    private async Task PumpAsync()
    {
        PipeReader from = _outbound.Reader;
        PipeWriter to = _peer._inbound.Writer;
        Exception? toError = null;
        Exception? fromError = null;
        try
        {
            while (true)
            {
                ReadResult result = await from.ReadAsync().ConfigureAwait(false);
                if (result.IsCanceled || EitherAborted) break;
                foreach (ReadOnlyMemory<byte> segment in result.Buffer) to.Write(segment.Span);
                from.AdvanceTo(result.Buffer.End);
                FlushResult flush = await to.FlushAsync().ConfigureAwait(false);
                if (flush.IsCanceled || EitherAborted) break;
                if (flush.IsCompleted || result.IsCompleted) break;
            }
        }
        catch (Exception ex)
        {
            fromError = toError = new IOException("in-memory pump failed", ex);
        }

        if (EitherAborted)
        {
            // The reader of 'to' is the peer if we aborted: it sees a reset; if the peer aborted, it is
            // the peer's own input and nobody cares. 'from' is ours: our next flush fails.
            toError ??= new IOException(_aborted ? "connection reset by peer" : "the transport was aborted");
            fromError ??= new IOException(_aborted ? "the transport was aborted" : "connection reset by peer");
        }

        await from.CompleteAsync(fromError).ConfigureAwait(false);
        await to.CompleteAsync(toError).ConfigureAwait(false);
    }
}
