using Shoal.Picking;

namespace Shoal.Tests.Picking;

public sealed class PiecePrioritiesTests
{
    // Pieces of 100 bytes over: a (0..250), pad (250..300), b (300..300, empty), c (300..420), d (420..1000).
    private static PiecePriorities Sample() => new(100,
    [
        (0, 250, false),
        (250, 50, true),
        (300, 0, false),
        (300, 120, false),
        (420, 580, false),
    ]);

    [Fact]
    public void Everything_is_wanted_at_normal_priority_by_default()
    {
        PiecePriorities p = Sample();
        Assert.Equal(10, p.PieceCount);
        Assert.True(p.AllWanted);
        Assert.Equal(1000, p.WantedBytes);
        Assert.All(Enumerable.Range(0, 10), i => Assert.Equal(FilePriority.Normal, p.GetPiecePriority(i)));
    }

    [Fact]
    public void A_piece_takes_the_highest_priority_of_the_files_it_touches_and_is_skipped_only_when_all_are()
    {
        PiecePriorities p = Sample();
        var changed = new List<int>();
        p.SetFilePriority(4, FilePriority.Skip, changed); // d: pieces 4..9, piece 4 shared with c
        Assert.Equal([5, 6, 7, 8, 9], changed);
        Assert.Equal(FilePriority.Normal, p.GetPiecePriority(4));
        Assert.False(p.IsWanted(5));
        Assert.Equal(500, p.WantedBytes);

        changed.Clear();
        p.SetFilePriority(3, FilePriority.High, changed); // c: pieces 3..4
        Assert.Equal([3, 4], changed);
        Assert.Equal(FilePriority.High, p.GetPiecePriority(3));

        changed.Clear();
        p.SetFilePriority(0, FilePriority.Skip, changed); // a: pieces 0..2; piece 2 also holds padding only besides a
        Assert.Equal([0, 1, 2], changed);
        Assert.False(p.IsWanted(2)); // padding never keeps a piece wanted
        Assert.Equal(200, p.WantedBytes);
        Assert.False(p.AllWanted);
    }

    [Fact]
    public void Padding_and_empty_files_change_nothing()
    {
        PiecePriorities p = Sample();
        var changed = new List<int>();
        p.SetFilePriority(1, FilePriority.Skip, changed);
        p.SetFilePriority(2, FilePriority.High, changed);
        Assert.Empty(changed);
        Assert.True(p.AllWanted);
    }

    [Fact]
    public void Selecting_files_skips_the_others_and_can_be_undone()
    {
        PiecePriorities p = Sample();
        p.Select([3]);
        Assert.Equal([false, false, false, true, true, false, false, false, false, false], Enumerable.Range(0, 10).Select(p.IsWanted));
        Assert.Equal(1, Enumerable.Range(0, p.FileCount).Count(f => p.GetFilePriority(f) != FilePriority.Skip));
        var changed = new List<int>();
        p.Select([0, 1, 2, 3, 4], changed);
        Assert.True(p.AllWanted);
        Assert.Equal(1000, p.WantedBytes);
        Assert.Equal(8, changed.Count);
    }

    [Fact]
    public void An_undefined_priority_is_refused()
    {
        PiecePriorities p = Sample();
        Assert.Throws<ArgumentOutOfRangeException>(() => p.SetFilePriority(0, (FilePriority)3));
    }
}
