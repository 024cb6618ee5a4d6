using System.IO.Pipelines;

namespace Shoal.Transport.Encryption;

/// <summary>
/// The output of an RC4 connection: a view of the inner transport's writer that encrypts each span in place when it
/// is committed (<see cref="Advance"/>). The buffers handed out are the inner pipe's own, so a block read from disk
/// straight into <see cref="GetMemory"/> is encrypted where it lies: no copy, no extra pipe, no allocation.
/// </summary>
internal sealed class EncryptingPipeWriter(PipeWriter inner, Rc4Cipher cipher) : PipeWriter
{
    /// <summary>The buffer handed out last; <see cref="Advance"/> encrypts its first bytes.</summary>
    private Memory<byte> _current;

    /// <inheritdoc />
    public override Memory<byte> GetMemory(int sizeHint = 0) => _current = inner.GetMemory(sizeHint);

    /// <inheritdoc />
    public override Span<byte> GetSpan(int sizeHint = 0) => (_current = inner.GetMemory(sizeHint)).Span;

    /// <inheritdoc />
    public override void Advance(int bytes)
    {
        // The PipeWriter contract: bytes were written into the buffer of the last GetMemory/GetSpan call.
        if ((uint)bytes > (uint)_current.Length)
            throw new InvalidOperationException($"advanced {bytes} bytes past a buffer of {_current.Length}");
        cipher.Apply(_current.Span[..bytes]);
        _current = _current[bytes..];
        inner.Advance(bytes);
    }

    /// <inheritdoc />
    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) => inner.FlushAsync(cancellationToken);

    /// <inheritdoc />
    public override void CancelPendingFlush() => inner.CancelPendingFlush();

    /// <inheritdoc />
    public override void Complete(Exception? exception = null) => inner.Complete(exception);

    /// <inheritdoc />
    public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);

    /// <inheritdoc />
    public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

    /// <inheritdoc />
    public override long UnflushedBytes => inner.UnflushedBytes;
}
