using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;

namespace Shoal.Transport.Encryption;

/// <summary>
/// The input of an encrypted connection: a view of the inner transport's reader that decrypts, in place, the bytes
/// each read brings that no earlier read had seen. No copy and no extra pipe: what the consumer parses is the inner
/// pipe's own memory, decrypted once. Optionally replays a prefix first (the responder's decrypted initial payload,
/// which carries the start of the BitTorrent handshake) as if it had arrived before the inner bytes.
/// </summary>
internal sealed class DecryptingPipeReader : PipeReader
{
    private readonly PipeReader _inner;
    private readonly Rc4Cipher? _cipher;

    /// <summary>Bytes at the start of the inner reader's unconsumed data that are already decrypted.</summary>
    private long _decrypted;

    /// <summary>The last buffer the inner reader returned (AdvanceTo positions are mapped through it).</summary>
    private ReadOnlySequence<byte> _innerBuffer;

    /// <summary>The inner reader has a read outstanding that AdvanceTo must complete.</summary>
    private bool _innerHeld;

    /// <summary>Replayed before the inner bytes; empty once consumed (then reads go straight through).</summary>
    private ReadOnlyMemory<byte> _prefix;

    /// <summary>The consumer has looked at all of the prefix without consuming it: the next read must bring more.</summary>
    private bool _prefixExamined;

    /// <summary>What the last read in prefix mode returned (prefix + inner bytes).</summary>
    private ReadOnlySequence<byte> _returned;

    /// <param name="inner">The inner transport's reader, positioned right after the handshake.</param>
    /// <param name="cipher">Decrypts the stream; null when the stream continues in plaintext.</param>
    /// <param name="prefix">Plaintext bytes to deliver before the inner ones (owned by this reader).</param>
    public DecryptingPipeReader(PipeReader inner, Rc4Cipher? cipher, ReadOnlyMemory<byte> prefix)
    {
        _inner = inner;
        _cipher = cipher;
        _prefix = prefix;
    }

    /// <inheritdoc />
    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        if (!_prefix.IsEmpty) return ReadWithPrefixAsync(cancellationToken);
        ValueTask<ReadResult> pending = _inner.ReadAsync(cancellationToken);
        return pending.IsCompletedSuccessfully ? new ValueTask<ReadResult>(Decrypt(pending.Result)) : AwaitAndDecryptAsync(pending);
    }

    /// <inheritdoc />
    public override bool TryRead(out ReadResult result)
    {
        if (!_prefix.IsEmpty)
        {
            ReadResult? held = null;
            if (_inner.TryRead(out ReadResult available)) held = available;
            else if (_prefixExamined)
            {
                result = default;
                return false;
            }
            result = ReadPrefixed(held);
            return true;
        }
        if (!_inner.TryRead(out ReadResult inner))
        {
            result = default;
            return false;
        }
        result = Decrypt(inner);
        return true;
    }

    /// <inheritdoc />
    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    /// <inheritdoc />
    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        if (_prefix.IsEmpty)
        {
            _decrypted -= _innerBuffer.Slice(_innerBuffer.Start, consumed).Length;
            _innerHeld = false;
            _inner.AdvanceTo(consumed, examined);
            return;
        }

        long consumedBytes = _returned.Slice(_returned.Start, consumed).Length;
        long examinedBytes = _returned.Slice(_returned.Start, examined).Length;
        int prefixLength = _prefix.Length;
        if (_innerHeld)
        {
            long innerConsumed = Math.Max(0, consumedBytes - prefixLength);
            long innerExamined = Math.Max(0, examinedBytes - prefixLength);
            _inner.AdvanceTo(_innerBuffer.GetPosition(innerConsumed), _innerBuffer.GetPosition(innerExamined));
            _decrypted -= innerConsumed;
            _innerHeld = false;
        }
        _prefixExamined = examinedBytes >= prefixLength;
        _prefix = _prefix[(int)Math.Min(consumedBytes, prefixLength)..];
        _returned = default;
    }

    /// <inheritdoc />
    public override void CancelPendingRead() => _inner.CancelPendingRead();

    /// <inheritdoc />
    public override void Complete(Exception? exception = null) => _inner.Complete(exception);

    /// <inheritdoc />
    public override ValueTask CompleteAsync(Exception? exception = null) => _inner.CompleteAsync(exception);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ReadResult> AwaitAndDecryptAsync(ValueTask<ReadResult> pending) => Decrypt(await pending.ConfigureAwait(false));

    private ReadResult Decrypt(ReadResult result)
    {
        ReadOnlySequence<byte> buffer = result.Buffer;
        long length = buffer.Length;
        if (_cipher is not null && length > _decrypted) _cipher.Apply(buffer.Slice(_decrypted));
        _decrypted = length;
        _innerBuffer = buffer;
        _innerHeld = true;
        return result;
    }

    private async ValueTask<ReadResult> ReadWithPrefixAsync(CancellationToken cancellationToken)
    {
        ReadResult? inner = null;
        if (_prefixExamined) inner = await _inner.ReadAsync(cancellationToken).ConfigureAwait(false);
        else if (_inner.TryRead(out ReadResult available)) inner = available;
        return ReadPrefixed(inner);
    }

    /// <summary>The prefix followed by whatever the inner read brought (decrypted), as one sequence.</summary>
    private ReadResult ReadPrefixed(ReadResult? innerResult)
    {
        if (innerResult is not { } inner)
        {
            _returned = new ReadOnlySequence<byte>(_prefix);
            return new ReadResult(_returned, isCanceled: false, isCompleted: false);
        }

        Decrypt(inner);
        var first = new PrefixSegment(_prefix, 0);
        PrefixSegment last = first;
        foreach (ReadOnlyMemory<byte> memory in inner.Buffer)
        {
            if (!memory.IsEmpty) last = last.Append(memory);
        }
        _returned = new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
        return new ReadResult(_returned, inner.IsCanceled, inner.IsCompleted);
    }

    /// <summary>A link of the sequence that joins the prefix to the inner reader's segments.</summary>
    private sealed class PrefixSegment : ReadOnlySequenceSegment<byte>
    {
        public PrefixSegment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public PrefixSegment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new PrefixSegment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
