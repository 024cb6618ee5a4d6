using Shoal.Storage;

namespace Shoal.Tests.Storage;

public sealed class RecentWritesTests
{
    private const long MiB = 1024 * 1024;

    private static List<FileRange> TakeAll(RecentWrites recent)
    {
        var taken = new List<FileRange>();
        while (recent.TryTakeExpired(out FileRange r)) taken.Add(r);
        return taken;
    }

    [Fact]
    public void Nothing_leaves_while_the_window_has_room()
    {
        var recent = new RecentWrites(4 * MiB);
        for (int i = 0; i < 4; i++)
        {
            Assert.False(recent.Record(0, i * MiB, MiB, out _));
            Assert.Empty(TakeAll(recent));
        }
        Assert.Equal(4 * MiB, recent.Bytes);
    }

    [Fact]
    public void An_in_order_download_is_one_range_and_only_its_oldest_bytes_leave()
    {
        var recent = new RecentWrites(4 * MiB);
        for (int i = 0; i < 10; i++) recent.Record(0, i * MiB, MiB, out _);
        Assert.Equal([new FileRange(0, 0, 6 * MiB)], TakeAll(recent));
        Assert.Equal(4 * MiB, recent.Bytes);
        recent.Record(0, 10 * MiB, 16 * 1024, out _);
        Assert.Equal([new FileRange(0, 6 * MiB, 16 * 1024)], TakeAll(recent));
    }

    [Fact]
    public void Ranges_leave_at_page_boundaries_so_no_page_is_half_dropped()
    {
        var recent = new RecentWrites(10_000);
        recent.Record(0, 0, 10_000, out _);
        recent.Record(0, 10_000, 1_000, out _); // 1,000 bytes too many: the first page leaves
        Assert.Equal([new FileRange(0, 0, 4096)], TakeAll(recent));
        Assert.Equal(11_000 - 4096, recent.Bytes);
    }

    [Fact]
    public void Scattered_pieces_of_several_files_leave_oldest_first()
    {
        var recent = new RecentWrites(2 * MiB);
        recent.Record(1, 5 * MiB, MiB, out _);
        recent.Record(0, 0, MiB, out _);
        recent.Record(1, 2 * MiB, MiB, out _); // not after the newest range of file 1: a range of its own
        recent.Record(2, 0, MiB, out _);
        Assert.Equal([new FileRange(1, 5 * MiB, MiB), new FileRange(0, 0, MiB)], TakeAll(recent));
        Assert.Equal(2 * MiB, recent.Bytes);
    }

    [Fact]
    public void A_window_of_zero_hands_out_every_write()
    {
        var recent = new RecentWrites(0);
        recent.Record(3, 8192, 16384, out _);
        Assert.Equal([new FileRange(3, 8192, 16384)], TakeAll(recent));
        Assert.Equal(0, recent.Bytes);
    }

    [Fact]
    public void Beyond_the_range_limit_the_oldest_range_is_displaced_whole()
    {
        var recent = new RecentWrites(long.MaxValue);
        for (int i = 0; i < RecentWrites.MaxRanges; i++)
            Assert.False(recent.Record(0, i * 2 * 16384L, 16384, out _)); // gaps: no two ranges join
        Assert.True(recent.Record(0, 1L << 40, 16384, out FileRange displaced));
        Assert.Equal(new FileRange(0, 0, 16384), displaced);
        Assert.True(recent.Record(0, 1L << 41, 16384, out displaced));
        Assert.Equal(new FileRange(0, 2 * 16384, 16384), displaced);
        Assert.Equal(RecentWrites.MaxRanges * 16384L, recent.Bytes);
    }

    [Fact]
    public void A_negative_window_is_refused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new RecentWrites(-1));
}
