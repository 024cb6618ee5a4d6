using Shoal.Storage;

namespace Shoal.Tests.Storage;

/// <summary>The session's file pool: one bound on open data files over every torrent of a disk service.</summary>
public sealed class FilePoolTests
{
    private static TestContent ManyFiles(int count, int seed) =>
        new(4096, [.. Enumerable.Range(0, count).Select(i => ($"t{seed}/f{i}", (long)(2000 + i * 37), false))], seed);

    [Fact]
    public async Task Torrents_of_one_service_share_one_bound_and_still_serve_every_file()
    {
        using var dir = new TempDir();
        await using var disk = new DiskService(maxOpenFiles: 3);
        TestContent a = ManyFiles(12, 1), b = ManyFiles(9, 2);
        await using var sa = TorrentStorage.Create(disk, a.Layout, a.Verifier, dir.Path);
        await using var sb = TorrentStorage.Create(disk, b.Layout, b.Verifier, dir.Path);
        int most = 0;
        foreach ((TestContent c, TorrentStorage s) in new[] { (a, sa), (b, sb) })
        {
            for (int p = 0; p < c.Layout.PieceCount; p++)
            {
                foreach (var (o, l) in c.Blocks(p, 1024))
                {
                    await s.WriteBlockAsync(p, o, c.Block(p, o, l));
                    most = Math.Max(most, disk.OpenFiles);
                }
            }
        }
        Assert.InRange(most, 1, 3);
        // Reads alternate between the two torrents' files: each reopens what the other's evicted.
        var buffer = new byte[1024];
        for (int round = 0; round < 3; round++)
        {
            foreach ((TestContent c, TorrentStorage s) in new[] { (a, sa), (b, sb) })
            {
                for (int p = 0; p < c.Layout.PieceCount; p++)
                {
                    int length = Math.Min(1024, c.Layout.GetPieceSize(p));
                    await s.ReadBlockAsync(p, 0, buffer.AsMemory(0, length));
                    Assert.True(c.Block(p, 0, length).Span.SequenceEqual(buffer.AsSpan(0, length)), $"piece {p} read back wrong");
                    Assert.InRange(disk.OpenFiles, 0, 3);
                }
            }
        }
        Assert.True(disk.Files.Evicted > 0);
        await sa.DisposeAsync();
        Assert.InRange(disk.OpenFiles, 0, 3);
        await sb.DisposeAsync();
        Assert.Equal(0, disk.OpenFiles);
    }

    [Fact]
    public void Too_many_open_files_is_its_own_transient_kind()
    {
        var e = StorageException.From(new IOException("Too many open files", 24), "open", "/x");
        Assert.Equal(StorageErrorKind.TooManyOpenFiles, e.Kind);
        Assert.False(e.IsPermanent);
        Assert.Contains("too many open files", e.Message);
    }
}
