using Shoal.Picking;
using static Shoal.Tests.Picking.PickerTestUtil;

namespace Shoal.Tests.Picking;

/// <summary>Sequential mode, deadlines and high/low priorities in the picker (rules 0 and 5).</summary>
public sealed class PiecePreferencesTests
{
    /// <summary>The pieces of the first block of each request, in order.</summary>
    private static int[] NewPieces(PiecePicker picker, int peerKey, BitField peerHas, int pieces, int blocksPerPiece = 4)
        => [.. Pick(picker, peerKey, peerHas, pieces * blocksPerPiece).Select(r => r.Piece).Distinct()];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Sequential_mode_takes_pieces_in_order_and_goes_back_for_a_failed_one(int seed)
    {
        PiecePicker picker = Picker(20, seed);
        BitField seeder = Full(20);
        picker.AddPeer(seeder);
        picker.Sequential = true;
        Assert.Equal([0, 1, 2], NewPieces(picker, 1, seeder, 3));
        Complete(picker, 0);
        Complete(picker, 1);
        Complete(picker, 2);
        Assert.Equal([3, 4], NewPieces(picker, 2, seeder, 2));
        picker.OnPieceFailed(1);
        Complete(picker, 3);
        Complete(picker, 4);
        Assert.Equal([1, 5], NewPieces(picker, 3, seeder, 2));
    }

    [Fact]
    public void Sequential_mode_skips_pieces_the_peer_lacks()
    {
        PiecePicker picker = Picker(10);
        BitField partial = Field(10, 2, 5, 6);
        picker.AddPeer(partial);
        picker.Sequential = true;
        Assert.Equal([2, 5, 6], NewPieces(picker, 1, partial, 3));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Deadline_pieces_come_first_in_deadline_order(int seed)
    {
        PiecePicker picker = Picker(50, seed, Field(50, 0, 1, 2, 3, 4));
        BitField seeder = Full(50);
        picker.AddPeer(seeder);
        picker.SetDeadline(40, deadline: 300);
        picker.SetDeadline(30, deadline: 100);
        picker.SetDeadline(35, deadline: 200);
        Assert.Equal([30, 35, 40], NewPieces(picker, 1, seeder, 3));
        Assert.Equal([30, 35, 40], picker.DeadlinePieces);
        Complete(picker, 30);
        Assert.Equal([35, 40], picker.DeadlinePieces);
        picker.SetDeadline(2, 50); // already verified: nothing to wait for
        Assert.DoesNotContain(2, picker.DeadlinePieces);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void High_priority_pieces_before_normal_ones_and_low_ones_last(int seed)
    {
        PiecePicker picker = Picker(12, seed, Field(12, 0, 1, 2, 3));
        BitField seeder = Full(12);
        picker.AddPeer(seeder);
        picker.SetPiecePriority(10, FilePriority.High);
        picker.SetPiecePriority(11, FilePriority.High);
        foreach (int p in new[] { 4, 5, 6 }) picker.SetPiecePriority(p, FilePriority.Low);
        int[] order = NewPieces(picker, 1, seeder, 8);
        Assert.Equal([10, 11], order[..2].Order());
        Assert.Equal([7, 8, 9], order[2..5].Order());
        Assert.Equal([4, 5, 6], order[5..].Order());
    }

    [Fact]
    public void Endgame_waits_while_a_low_priority_piece_is_available()
    {
        PiecePicker picker = Picker(6, 1, Field(6, 0, 1, 2, 3));
        BitField seeder = Full(6);
        picker.AddPeer(seeder);
        picker.SetPiecePriority(5, FilePriority.Low);
        Assert.Equal([4], NewPieces(picker, 1, seeder, 1));
        Assert.False(picker.InEndgame);
        Assert.Equal([5], NewPieces(picker, 2, seeder, 1));
        Assert.True(picker.InEndgame);
    }

    [Fact]
    public void Skip_through_priority_makes_a_piece_unwanted_and_back()
    {
        PiecePicker picker = Picker(6, 1, Field(6, 0, 1, 2, 3));
        BitField seeder = Full(6);
        picker.AddPeer(seeder);
        picker.SetPiecePriority(4, FilePriority.Skip);
        Assert.Equal(1, picker.MissingPieces);
        Assert.Equal([5], NewPieces(picker, 1, seeder, 2));
        picker.SetPiecePriority(4, FilePriority.Low);
        Assert.Equal(2, picker.MissingPieces);
        Assert.Equal([4], NewPieces(picker, 2, seeder, 1));
    }
}
