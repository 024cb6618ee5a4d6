using Shoal.Picking;

namespace Shoal.Tests.Picking;

/// <summary>First-and-last-piece priority (qBittorrent's firstLastPiecePrio): the edges of every wanted file come first.</summary>
public sealed class FirstAndLastPiecesTests
{
    private const int PieceLength = 4 * PiecePicker.BlockLength;
    private const long P = PieceLength;

    // a: pieces 0..9; b: 9..20 (shares 9 with a); c (skipped): 20..24 (shares 20 with b); d: 25..39.
    private static readonly (long Offset, long Length, bool IsPadding)[] Files =
    [
        (0, 10 * P - 1000, false),
        (10 * P - 1000, 10 * P + 6000, false),
        (20 * P + 5000, 5 * P - 5000, false),
        (25 * P, 15 * P, false),
    ];

    private static readonly int[] WantedEdges = [0, 9, 20, 25, 39];

    private static PiecePriorities Priorities(bool edgesFirst)
    {
        var priorities = new PiecePriorities(PieceLength, Files);
        priorities.SetFilePriority(2, FilePriority.Skip);
        priorities.SetFilePriority(3, FilePriority.Low);
        if (edgesFirst) priorities.SetFirstAndLastPiecesFirst(true);
        return priorities;
    }

    /// <summary>The picker as the torrent builds it when its check ends (TorrentCheck.Finish).</summary>
    private static PiecePicker PickerFor(PiecePriorities priorities, int seed)
    {
        PiecePicker picker = PickerTestUtil.Picker(priorities.PieceCount, seed);
        for (int p = 0; p < priorities.PieceCount; p++)
        {
            FilePriority level = priorities.GetPiecePriority(p);
            if (level != FilePriority.Normal) picker.SetPiecePriority(p, level);
        }
        return picker;
    }

    /// <summary>Pieces in the order a peer that has everything is asked for them, one piece at a time.</summary>
    private static List<int> RequestOrder(PiecePicker picker, int count)
    {
        var order = new List<int>();
        BitField all = PickerTestUtil.Full(picker.PieceCount);
        picker.AddPeer(all);
        while (order.Count < count)
        {
            BlockRequest[] blocks = PickerTestUtil.Pick(picker, 1, all, 4);
            Assert.NotEmpty(blocks);
            Assert.All(blocks, b => Assert.Equal(blocks[0].Piece, b.Piece));
            order.Add(blocks[0].Piece);
            PickerTestUtil.Complete(picker, blocks[0].Piece);
        }
        return order;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void The_first_and_last_piece_of_each_wanted_file_are_requested_before_any_other(int seed)
    {
        List<int> order = RequestOrder(PickerFor(Priorities(edgesFirst: true), seed), WantedEdges.Length);
        Assert.Equal(WantedEdges, order.Order());
    }

    [Fact]
    public void Without_the_flag_the_order_is_rarest_first_as_usual()
    {
        // The same torrent and seeds: the edges are not what comes first, so the test above sees the flag at work.
        for (int seed = 1; seed <= 3; seed++)
        {
            List<int> order = RequestOrder(PickerFor(Priorities(edgesFirst: false), seed), WantedEdges.Length);
            Assert.NotEqual(WantedEdges, order.Order());
        }
    }

    [Fact]
    public void Turning_it_on_and_off_reports_the_edge_pieces_that_changed_and_restores_their_files_priorities()
    {
        PiecePriorities priorities = Priorities(edgesFirst: false);
        var changed = new List<int>();
        priorities.SetFirstAndLastPiecesFirst(true, changed);
        Assert.Equal(WantedEdges, changed);
        Assert.All(WantedEdges, p => Assert.Equal(FilePriority.High, priorities.GetPiecePriority(p)));
        Assert.Equal(FilePriority.Skip, priorities.GetPiecePriority(24)); // the skipped file's own last piece stays skipped
        Assert.Equal(FilePriority.Normal, priorities.GetPiecePriority(5));

        // A file skipped later loses its edges; wanted again, it gets them back.
        changed.Clear();
        priorities.SetFilePriority(0, FilePriority.Skip, changed);
        Assert.Equal(FilePriority.Skip, priorities.GetPiecePriority(0));
        Assert.Equal(FilePriority.High, priorities.GetPiecePriority(9)); // still b's first piece
        priorities.SetFilePriority(0, FilePriority.Normal);
        Assert.Equal(FilePriority.High, priorities.GetPiecePriority(0));

        changed.Clear();
        priorities.SetFirstAndLastPiecesFirst(false, changed);
        Assert.Equal(WantedEdges, changed);
        Assert.Equal(FilePriority.Normal, priorities.GetPiecePriority(0));
        Assert.Equal(FilePriority.Normal, priorities.GetPiecePriority(20)); // b's priority (c, skipped, does not count)
        Assert.Equal(FilePriority.Low, priorities.GetPiecePriority(25));
        Assert.False(priorities.FirstAndLastPiecesFirst);
    }
}
