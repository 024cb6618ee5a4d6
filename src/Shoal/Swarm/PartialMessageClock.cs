using System.Buffers;
using System.Buffers.Binary;

namespace Shoal.Swarm;

/// <summary>
/// How long the message now arriving on a connection has been arriving, and its length once its prefix is in:
/// <see cref="PeerInactivity"/> gives each message a deadline, so a peer that trickles a message byte by byte is
/// caught. Written by the receive loop, read by the actor's tick (interlocked).
/// </summary>
internal sealed class PartialMessageClock
{
    private long _since;   // when the message now arriving began (0: none)
    private long _length;  // its length prefix once known

    /// <summary>When the message now arriving began (a <see cref="TimeProvider"/> timestamp); 0 when none is.</summary>
    public long Since => Interlocked.Read(ref _since);

    /// <summary>The length prefix of the message now arriving, once known; 0 otherwise.</summary>
    public long Length => Interlocked.Read(ref _length);

    /// <summary>A whole message was read: its clock stops (our own waits after it are not the peer's slowness).</summary>
    public void Stop() => Interlocked.Exchange(ref _since, 0);

    /// <summary>
    /// After a read: starts the clock of a message that has begun to arrive (<paramref name="rest"/>: what is left in
    /// the buffer after the whole ones), or stops it when nothing is left.
    /// </summary>
    public void Note(in ReadOnlySequence<byte> rest, bool readAny, TimeProvider time)
    {
        if (rest.IsEmpty)
        {
            Interlocked.Exchange(ref _since, 0);
            Interlocked.Exchange(ref _length, 0);
            return;
        }
        if (readAny || Interlocked.Read(ref _since) == 0)
        {
            Interlocked.Exchange(ref _length, 0);
            Interlocked.Exchange(ref _since, time.GetTimestamp());
        }
        if (rest.Length >= 4 && Interlocked.Read(ref _length) == 0)
        {
            Span<byte> prefix = stackalloc byte[4];
            rest.Slice(0, 4).CopyTo(prefix);
            Interlocked.Exchange(ref _length, BinaryPrimitives.ReadUInt32BigEndian(prefix));
        }
    }
}
