using Shoal.Picking;
using Shoal.Wire;

namespace Shoal.Swarm;

/// <summary>
/// A peer's whole-set availability messages (BITFIELD, HAVE ALL, HAVE NONE), at any point of the connection.
/// BEP 3 and 6 put them first, but widely used clients send a whole BITFIELD again mid-connection when it is
/// shorter than the HAVEs it stands for, and libtorrent accepts that: the new set replaces the old one. So does
/// Shoal: the picker forgets the counts of the old set and adds those of the new one, so rarest-first stays right.
/// </summary>
internal static class PeerAvailability
{
    /// <summary>
    /// Replaces a peer's piece set <paramref name="has"/> (registered with <paramref name="picker"/>) with what the message says and moves the picker's counts with it.
    /// Spare bits of a bitfield are ignored (cleared), as libtorrent does. Throws <see cref="ShoalFormatException"/>
    /// when a bitfield has the wrong length (the peer describes another torrent): nothing is changed then.
    /// Returns true when the peer no longer has a piece it had (its requests for those must be dropped).
    /// </summary>
    public static bool Replace(BitField has, PiecePicker picker, MessageId message, byte[]? bitfield)
    {
        BitField? previous = null;
        if (!has.NoneSet)
        {
            previous = new BitField(has.Length);
            previous.CopyFrom(has);
        }
        switch (message)
        {
            case MessageId.Bitfield:
                // Validate before touching anything: a bad bitfield must not leave the picker half updated.
                if (bitfield is null || bitfield.Length != has.Bytes.Length)
                    throw new ShoalFormatException($"bitfield is {bitfield?.Length ?? 0} bytes, expected {has.Bytes.Length}");
                picker.RemovePeer(has);
                has.LoadFromIgnoringSpareBits(bitfield);
                break;
            case MessageId.HaveAll:
                picker.RemovePeer(has);
                has.SetAll();
                break;
            case MessageId.HaveNone:
                picker.RemovePeer(has);
                has.ClearAll();
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(message), message, "not an availability message");
        }
        picker.AddPeer(has);
        return previous is not null && has.HasAnyMissingFrom(previous);
    }

    /// <summary>The same, before the piece count is known (magnet link): the latest set replaces what was kept.</summary>
    public static void ReplaceEarly(EarlyAvailability early, MessageId message, byte[]? bitfield)
    {
        early.Haves.Clear();
        early.Bitfield = message == MessageId.Bitfield ? bitfield : null;
        early.HasAll = message == MessageId.HaveAll;
    }
}
