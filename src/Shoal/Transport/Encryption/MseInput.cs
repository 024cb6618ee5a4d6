using System.Buffers;
using System.IO.Pipelines;

namespace Shoal.Transport.Encryption;

/// <summary>
/// Reads the fields of an MSE/PE handshake from a connection's pipe, with the bounds the specification sets and
/// a failure that says what was awaited. Remembers what it waits for, so a deadline can name the step it hit.
/// </summary>
internal sealed class MseInput(PipeReader reader)
{
    /// <summary>What the handshake is waiting for right now ("the peer's public key", ...).</summary>
    public string Waiting { get; private set; } = "the start of the handshake";

    /// <summary>Reads exactly <paramref name="count"/> bytes.</summary>
    public async ValueTask<byte[]> ReadAsync(int count, string what, CancellationToken cancellationToken)
    {
        Waiting = what;
        ReadResult result = await reader.ReadAtLeastAsync(count, cancellationToken).ConfigureAwait(false);
        ReadOnlySequence<byte> buffer = result.Buffer;
        if (buffer.Length < count)
        {
            reader.AdvanceTo(buffer.Start, buffer.End);
            throw Closed(what, buffer.Length);
        }
        byte[] bytes = buffer.Slice(0, count).ToArray();
        reader.AdvanceTo(buffer.GetPosition(count));
        return bytes;
    }

    /// <summary>
    /// Skips at most <paramref name="maxSkip"/> bytes of padding until <paramref name="pattern"/>, and consumes through
    /// it. Returns how many bytes were skipped. Never buffers more than the padding bound plus the pattern.
    /// </summary>
    public async ValueTask<int> SyncAsync(byte[] pattern, int maxSkip, string what, EncryptionFailure notFound, CancellationToken cancellationToken)
    {
        Waiting = what;
        int window = maxSkip + pattern.Length;
        byte[] scratch = ArrayPool<byte>.Shared.Rent(window);
        try
        {
            while (true)
            {
                ReadResult result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                ReadOnlySequence<byte> buffer = result.Buffer;
                int available = (int)Math.Min(buffer.Length, window);
                buffer.Slice(0, available).CopyTo(scratch);
                int at = scratch.AsSpan(0, available).IndexOf(pattern);
                if (at >= 0)
                {
                    reader.AdvanceTo(buffer.GetPosition(at + pattern.Length));
                    return at;
                }
                reader.AdvanceTo(buffer.Start, buffer.End);
                if (available >= window)
                    throw new EncryptionHandshakeException(notFound, $"no {what} within {maxSkip} bytes of padding");
                if (result.IsCompleted || result.IsCanceled) throw Closed(what, available);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    private static EncryptionHandshakeException Closed(string what, long received) => new(EncryptionFailure.ConnectionClosed,
        received == 0 ? $"the peer closed the connection while we waited for {what}"
                      : $"the peer closed the connection after {received} bytes of {what}");
}
