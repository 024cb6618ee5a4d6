using System.Buffers;
using System.IO.Pipelines;

namespace Shoal.Transport.Utp;

/// <summary>
/// The application's end of a uTP connection's receive pipe: the pipe's own reader, counting the bytes the
/// application consumes, because the window uTP advertises is the receive buffer less what is still unread.
/// </summary>
internal sealed class UtpInputReader(PipeReader inner, UtpTransport owner) : PipeReader
{
    private ReadOnlySequence<byte> _lastBuffer;

    /// <inheritdoc />
    public override bool TryRead(out ReadResult result)
    {
        bool read = inner.TryRead(out result);
        if (read) _lastBuffer = result.Buffer;
        return read;
    }

    /// <inheritdoc />
    public override async ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        ReadResult result = await inner.ReadAsync(cancellationToken).ConfigureAwait(false);
        _lastBuffer = result.Buffer;
        return result;
    }

    /// <inheritdoc />
    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    /// <inheritdoc />
    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        long bytes = _lastBuffer.IsEmpty ? 0 : _lastBuffer.Slice(_lastBuffer.Start, consumed).Length;
        _lastBuffer = default;
        inner.AdvanceTo(consumed, examined);
        if (bytes > 0) owner.OnInputConsumed(bytes);
    }

    /// <inheritdoc />
    public override void CancelPendingRead() => inner.CancelPendingRead();

    /// <inheritdoc />
    public override void Complete(Exception? exception = null)
    {
        inner.Complete(exception);
        owner.OnInputCompleted();
    }
}
