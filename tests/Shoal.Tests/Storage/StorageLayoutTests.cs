using Shoal.Storage;

namespace Shoal.Tests.Storage;

public sealed class StorageLayoutTests
{
    private static StorageLayout Make(int pieceLength, params long[] sizes)
    {
        var files = sizes.Select((s, i) => new StorageFile(["t", $"f{i}"], s, false)).ToArray();
        return new StorageLayout(files, pieceLength);
    }

    private static List<FileSlice> Map(StorageLayout l, long offset, long length)
    {
        var list = new List<FileSlice>();
        foreach (FileSlice s in l.MapRange(offset, length)) list.Add(s);
        return list;
    }

    [Fact]
    public void Sizes_and_piece_counts()
    {
        StorageLayout l = Make(16, 10, 30, 5);
        Assert.Equal(45, l.TotalSize);
        Assert.Equal(3, l.PieceCount);
        Assert.Equal(16, l.GetPieceSize(0));
        Assert.Equal(13, l.GetPieceSize(2));
        Assert.Equal(32, l.GetPieceOffset(2));
        Assert.Throws<ArgumentOutOfRangeException>(() => l.GetPieceSize(3));
    }

    [Fact]
    public void Piece_spanning_several_small_files()
    {
        StorageLayout l = Make(16, 3, 4, 5, 20);
        Assert.Equal(
            [new FileSlice(0, 0, 3), new FileSlice(1, 0, 4), new FileSlice(2, 0, 5), new FileSlice(3, 0, 4)],
            Map(l, 0, 16));
        Assert.Equal([new FileSlice(3, 4, 16)], Map(l, 16, 16));
    }

    [Fact]
    public void Non_aligned_range_in_the_middle()
    {
        StorageLayout l = Make(8, 5, 7, 9);
        Assert.Equal([new FileSlice(0, 4, 1), new FileSlice(1, 0, 7), new FileSlice(2, 0, 2)], Map(l, 4, 10));
        Assert.Equal([new FileSlice(2, 8, 1)], Map(l, 20, 1));
    }

    [Fact]
    public void Zero_length_files_never_appear()
    {
        StorageLayout l = Make(8, 0, 4, 0, 0, 6, 0);
        Assert.Equal([new FileSlice(1, 0, 4), new FileSlice(4, 0, 4)], Map(l, 0, 8));
        Assert.Equal([new FileSlice(4, 2, 4)], Map(l, 6, 4));
        Assert.Equal(4, l.FindFile(4));
        Assert.Equal(1, l.FindFile(0));
        Assert.Empty(Map(l, 10, 0));
    }

    [Fact]
    public void Padding_files_are_mapped_and_flagged()
    {
        var files = new[]
        {
            new StorageFile(["t", "a"], 5, false),
            new StorageFile(["t", ".pad", "3"], 3, true),
            new StorageFile(["t", "b"], 8, false),
        };
        var l = new StorageLayout(files, 8);
        List<FileSlice> slices = Map(l, 0, 8);
        Assert.Equal([new FileSlice(0, 0, 5), new FileSlice(1, 0, 3)], slices);
        Assert.True(l.Files[slices[1].FileIndex].IsPadding);
    }

    [Fact]
    public void Mapping_every_range_tiles_the_request()
    {
        StorageLayout l = Make(7, 1, 0, 13, 2, 0, 9, 4);
        for (long off = 0; off < l.TotalSize; off++)
        {
            for (long len = 0; off + len <= l.TotalSize; len++)
            {
                long pos = off;
                foreach (FileSlice s in l.MapRange(off, len))
                {
                    Assert.True(s.Length > 0);
                    Assert.Equal(pos, l.GetFileOffset(s.FileIndex) + s.FileOffset);
                    Assert.True(s.FileOffset + s.Length <= l.Files[s.FileIndex].Length);
                    pos += s.Length;
                }
                Assert.Equal(off + len, pos);
            }
        }
    }

    [Fact]
    public void Range_outside_the_torrent_is_rejected()
    {
        StorageLayout l = Make(8, 10);
        Assert.Throws<ArgumentOutOfRangeException>(() => l.MapRange(5, 6));
        Assert.Throws<ArgumentOutOfRangeException>(() => l.MapRange(-1, 1));
    }

    [Fact]
    public void Inconsistent_layout_is_a_format_error()
    {
        var files = new[] { new StorageFile(["a"], 100, false) };
        Assert.Throws<ShoalFormatException>(() => new StorageLayout(files, 0));
        Assert.Throws<ShoalFormatException>(() => new StorageLayout([new StorageFile(["a"], -1, false)], 16));
    }
}
