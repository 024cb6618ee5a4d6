using Shoal.Picking;
using static Shoal.Tests.Picking.PickerTestUtil;

namespace Shoal.Tests.Picking;

/// <summary>PiecePicker.PickRun: runs of contiguous blocks for web seeds (the rules at the top of PiecePicker.Runs.cs).</summary>
public sealed class PickRunTests
{
    private const int B = PiecePicker.BlockLength;
    private const int WebSeed = -1;
    private const int OtherWebSeed = -2;

    private static BlockRequest[] Run(PiecePicker picker, int key, int preferredStart, bool allowDuplicates, int max)
    {
        var buffer = new BlockRequest[max];
        int n = picker.PickRun(key, preferredStart, allowDuplicates, buffer);
        return buffer[..n];
    }

    private static void AssertContiguous(BlockRequest[] run, int pieceLength)
    {
        for (int i = 1; i < run.Length; i++)
        {
            long previousEnd = (long)run[i - 1].Piece * pieceLength + run[i - 1].Offset + run[i - 1].Length;
            Assert.Equal(previousEnd, (long)run[i].Piece * pieceLength + run[i].Offset);
        }
    }

    [Fact]
    public void TakesWholePiecesFromTheStartOfTheLongestGap()
    {
        // Have 0 and 3: the gaps are [1,2] and [4..9]; the run starts at 4.
        var picker = Picker(10, have: Field(10, 0, 3));
        BlockRequest[] run = Run(picker, WebSeed, -1, false, 10);
        // 10 blocks of room, 4 blocks per piece: two whole pieces, never a cut one.
        Assert.Equal(8, run.Length);
        Assert.Equal(4, run[0].Piece);
        Assert.Equal(0, run[0].Offset);
        Assert.Equal(5, run[^1].Piece);
        AssertContiguous(run, 4 * B);
    }

    [Fact]
    public void ContinuesAfterThePreviousRunWhenThatPieceIsUnstarted()
    {
        var picker = Picker(10);
        Assert.Equal(0, Run(picker, WebSeed, -1, false, 8)[0].Piece);
        // The slot's previous run ended with piece 1: the next one goes on at 2, not at the longest gap.
        Assert.Equal(2, Run(picker, WebSeed, 2, false, 8)[0].Piece);
        // A second source starts at the longest gap left: pieces 4..9.
        Assert.Equal(4, Run(picker, OtherWebSeed, -1, false, 8)[0].Piece);
    }

    [Fact]
    public void CutsOnlyAPieceLargerThanTheRoom()
    {
        var picker = Picker(4, blocksPerPiece: 8);
        BlockRequest[] run = Run(picker, WebSeed, -1, false, 3);
        Assert.Equal(3, run.Length);
        Assert.All(run, r => Assert.Equal(0, r.Piece));
        AssertContiguous(run, 8 * B);
    }

    [Fact]
    public void ThenTakesTheUnrequestedStretchOfAStartedPiece()
    {
        var picker = Picker(2, have: Field(2, 0));
        // A peer asked for the first two blocks of piece 1 and then left them pending.
        BlockRequest[] peer = Pick(picker, 1, Full(2), 2);
        Assert.Equal(2, peer.Length);
        BlockRequest[] run = Run(picker, WebSeed, -1, false, 10);
        Assert.Equal([new BlockRequest(1, 2 * B, B), new BlockRequest(1, 3 * B, B)], run);
    }

    [Fact]
    public void DuplicatesOnlyInEndgameAndOnlyWhenAllowed()
    {
        var picker = Picker(1);
        Assert.Equal(4, Pick(picker, 1, Full(1), 4).Length);
        Assert.Empty(Run(picker, WebSeed, -1, false, 10));
        BlockRequest[] run = Run(picker, WebSeed, -1, true, 10);
        Assert.Equal(4, run.Length);
        AssertContiguous(run, 4 * B);
        // The web seed's block arrives first: the peer is the one to cancel.
        var cancels = new List<int>();
        Assert.True(picker.OnBlockReceived(WebSeed, run[0], cancels));
        Assert.Equal([1], cancels);
    }

    [Fact]
    public void DroppedBlocksGoBackToTheNextRun()
    {
        var picker = Picker(3);
        BlockRequest[] run = Run(picker, WebSeed, -1, false, 12);
        Assert.Equal(12, run.Length);
        var cancels = new List<int>();
        picker.OnBlockReceived(WebSeed, run[0], cancels);
        for (int i = 1; i < run.Length; i++) picker.OnRequestDropped(WebSeed, run[i]);
        // The rest of the failed run comes back as one stretch across pieces 0, 1 and 2: one request, not three.
        BlockRequest[] again = Run(picker, OtherWebSeed, -1, false, 12);
        Assert.Equal(run[1..], again);
        AssertContiguous(again, 4 * B);
    }

    [Fact]
    public void AnOpenStretchStopsWhereTheNextPieceIsHeldBySomeoneElse()
    {
        var picker = Picker(3);
        BlockRequest[] run = Run(picker, WebSeed, -1, false, 12);
        // Piece 0 fails back; piece 1's first block is still with the first source.
        for (int i = 0; i < 4; i++) picker.OnRequestDropped(WebSeed, run[i]);
        BlockRequest[] again = Run(picker, OtherWebSeed, -1, false, 12);
        Assert.Equal(run[..4], again);
    }

    [Fact]
    public void NothingWhenComplete()
    {
        var picker = Picker(2, have: Full(2));
        Assert.Empty(Run(picker, WebSeed, -1, true, 10));
    }
}
