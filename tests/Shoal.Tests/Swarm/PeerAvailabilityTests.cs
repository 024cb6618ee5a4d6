using Shoal.Picking;
using Shoal.Swarm;
using Shoal.Wire;

namespace Shoal.Tests.Swarm;

public sealed class PeerAvailabilityTests
{
    private const int Pieces = 10;

    private static PiecePicker NewPicker() => new(Pieces, 16 * 1024, Pieces * 16 * 1024L, new BitField(Pieces), new Random(1));

    private static byte[] Bits(params int[] pieces)
    {
        var field = new BitField(Pieces);
        foreach (int p in pieces) field[p] = true;
        return field.Bytes.ToArray();
    }

    private static int[] Availability(PiecePicker picker) => [.. Enumerable.Range(0, Pieces).Select(picker.Availability)];

    [Fact]
    public void A_late_bitfield_replaces_the_old_set_in_the_picker_counts()
    {
        PiecePicker picker = NewPicker();
        var other = new BitField(Pieces);
        other.LoadFrom(Bits(0, 1, 2));
        picker.AddPeer(other); // a second peer, whose counts must stay

        var has = new BitField(Pieces);
        Assert.False(PeerAvailability.Replace(has, picker, MessageId.Bitfield, Bits(0, 1)));
        has[5] = true;
        picker.PeerHasPiece(5); // a HAVE in between
        Assert.Equal([2, 2, 1, 0, 0, 1, 0, 0, 0, 0], Availability(picker));

        bool lost = PeerAvailability.Replace(has, picker, MessageId.Bitfield, Bits(1, 2, 9));
        Assert.True(lost); // pieces 0 and 5 are gone
        Assert.Equal([1, 2, 2, 0, 0, 0, 0, 0, 0, 1], Availability(picker));
        Assert.Equal(3, has.SetCount);
    }

    [Fact]
    public void A_late_have_all_and_have_none_move_the_counts_too()
    {
        PiecePicker picker = NewPicker();
        var has = new BitField(Pieces);
        PeerAvailability.Replace(has, picker, MessageId.Bitfield, Bits(3));
        Assert.False(PeerAvailability.Replace(has, picker, MessageId.HaveAll, null));
        Assert.All(Availability(picker), a => Assert.Equal(1, a));
        Assert.True(has.AllSet);

        Assert.True(PeerAvailability.Replace(has, picker, MessageId.HaveNone, null));
        Assert.All(Availability(picker), a => Assert.Equal(0, a));
        Assert.True(has.NoneSet);
    }

    [Fact]
    public void A_bitfield_of_the_wrong_length_changes_nothing()
    {
        PiecePicker picker = NewPicker();
        var has = new BitField(Pieces);
        PeerAvailability.Replace(has, picker, MessageId.Bitfield, Bits(4));
        Assert.Throws<ShoalFormatException>(() => PeerAvailability.Replace(has, picker, MessageId.Bitfield, new byte[3]));
        Assert.True(has[4]);
        Assert.Equal(1, picker.Availability(4));
    }

    [Fact]
    public void Spare_bits_are_cleared_not_fatal()
    {
        PiecePicker picker = NewPicker();
        var has = new BitField(Pieces);
        byte[] bits = Bits(9);
        bits[^1] |= 0x3F; // the 6 spare bits of 10 pieces
        PeerAvailability.Replace(has, picker, MessageId.Bitfield, bits);
        Assert.Equal(1, has.SetCount);
        Assert.Equal(0, has.Bytes[^1] & 0x3F);
    }

    [Fact]
    public void Before_the_metadata_the_latest_set_replaces_what_was_kept()
    {
        var early = new EarlyAvailability { HasAll = true };
        early.AddHave(3);
        PeerAvailability.ReplaceEarly(early, MessageId.Bitfield, [0x80]);
        Assert.False(early.HasAll);
        Assert.Empty(early.Haves);
        Assert.Equal([0x80], early.Bitfield);
        PeerAvailability.ReplaceEarly(early, MessageId.HaveNone, null);
        Assert.Null(early.Bitfield);
        Assert.False(early.HasAll);
    }
}
