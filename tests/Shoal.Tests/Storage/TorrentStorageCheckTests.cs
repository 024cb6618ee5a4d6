using Shoal.Storage;

namespace Shoal.Tests.Storage;

public sealed class TorrentStorageCheckTests
{
    // 32 KiB pieces; file boundaries inside pieces 0, 1, 3, 6.
    private static TestContent Content() => new(32 * 1024,
    [
        ("t/a", 40_000, false),
        ("t/s/b", 30_000, false),
        ("t/s/c", 60_000, false),
        ("t/.pad/x", 1_000, true),
        ("t/d", 80_000, false),
    ], seed: 21);

    private static List<int> Missing(BitField f)
    {
        var list = new List<int>();
        for (int i = 0; i < f.Length; i++) if (!f[i]) list.Add(i);
        return list;
    }

    private static List<int> PiecesOf(TestContent c, int fileIndex)
    {
        long start = c.Layout.GetFileOffset(fileIndex), end = start + c.Layout.Files[fileIndex].Length;
        var list = new List<int>();
        for (int p = 0; p < c.Layout.PieceCount; p++)
        {
            long ps = c.Layout.GetPieceOffset(p), pe = ps + c.Layout.GetPieceSize(p);
            if (ps < end && pe > start) list.Add(p);
        }
        return list;
    }

    private sealed class CountingProgress : IProgress<int>
    {
        public int Max;
        public void Report(int value) { lock (this) Max = Math.Max(Max, value); }
    }

    [Fact]
    public async Task Nothing_on_disk_means_nothing_verified()
    {
        using var dir = new TempDir();
        await using var disk = new DiskService();
        TestContent c = Content();
        await using var s = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path);
        BitField have = await s.CheckExistingAsync(null, CancellationToken.None);
        Assert.True(have.NoneSet);
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir.Path));
    }

    [Fact]
    public async Task After_writing_everything_all_pieces_verify()
    {
        using var dir = new TempDir();
        await using var disk = new DiskService();
        TestContent c = Content();
        await using (var s = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path))
            await c.WriteAllAsync(s, 16 * 1024);

        await using var fresh = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path);
        var progress = new CountingProgress();
        BitField have = await fresh.CheckExistingAsync(progress, CancellationToken.None);
        Assert.True(have.AllSet);
        Assert.True(fresh.IsPieceVerified(0));
        Assert.Equal(c.Layout.PieceCount, progress.Max);
        // Verified pieces refuse writes.
        Assert.Equal(BlockWriteResult.Ignored, await fresh.WriteBlockAsync(0, 0, new byte[10]));
    }

    [Theory]
    [InlineData(0, 39_999)] // last byte of a, inside piece 1
    [InlineData(2, 0)] // first byte of c, inside piece 2
    [InlineData(4, 79_999)] // last byte of the torrent
    public async Task One_corrupt_byte_fails_exactly_its_piece(int fileIndex, long fileOffset)
    {
        using var dir = new TempDir();
        await using var disk = new DiskService();
        TestContent c = Content();
        await using (var s = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path))
        {
            await c.WriteAllAsync(s, 16 * 1024);
            string path = s.GetFilePath(fileIndex)!;
            await s.DisposeAsync();
            using FileStream f = File.Open(path, FileMode.Open, FileAccess.ReadWrite);
            f.Position = fileOffset;
            int b = f.ReadByte();
            f.Position = fileOffset;
            f.WriteByte((byte)(b ^ 0x01));
        }
        await using var fresh = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path);
        BitField have = await fresh.CheckExistingAsync(null, CancellationToken.None);
        long torrentOffset = c.Layout.GetFileOffset(fileIndex) + fileOffset;
        Assert.Equal([(int)(torrentOffset / c.Layout.PieceLength)], Missing(have));
    }

    [Fact]
    public async Task Deleted_file_fails_the_pieces_it_touches()
    {
        using var dir = new TempDir();
        await using var disk = new DiskService();
        TestContent c = Content();
        await using var s = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path);
        await c.WriteAllAsync(s, 16 * 1024);
        File.Delete(s.GetFilePath(1)!); // t/s/b: [40000, 70000) -> pieces 1 and 2
        BitField have = await s.CheckExistingAsync(null, CancellationToken.None);
        Assert.Equal(PiecesOf(c, 1), Missing(have));
        Assert.Equal([1, 2], Missing(have));
        Assert.False(s.IsPieceVerified(1));

        // Those pieces can be downloaded again, and the file comes back.
        foreach (int p in Missing(have))
            foreach (var (o, l) in c.Blocks(p, 16 * 1024))
                await s.WriteBlockAsync(p, o, c.Block(p, o, l));
        Assert.Equal(c.FileBytes(1), File.ReadAllBytes(s.GetFilePath(1)!));
        Assert.True((await s.CheckExistingAsync(null, CancellationToken.None)).AllSet);
    }

    [Fact]
    public async Task Truncated_file_fails_only_the_pieces_past_its_end()
    {
        using var dir = new TempDir();
        await using var disk = new DiskService();
        TestContent c = Content();
        await using var s = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path);
        await c.WriteAllAsync(s, 16 * 1024);
        await s.DisposeAsync();
        using (var f = File.Open(Path.Combine(dir.Path, "t", "d"), FileMode.Open)) f.SetLength(10_000);
        await using var fresh = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path);
        BitField have = await fresh.CheckExistingAsync(null, CancellationToken.None);
        // d starts at 131000 (inside piece 3); 10000 bytes remain -> piece 4 (131072..) is incomplete onward.
        Assert.Equal([4, 5, 6], Missing(have));
    }

    [Fact]
    public async Task Pieces_larger_than_the_read_chunk_are_checked()
    {
        using var dir = new TempDir();
        await using var disk = new DiskService(2);
        TestContent c = new(8 * 1024 * 1024, [("big/x", 9 * 1024 * 1024, false), ("big/y", 1000, false)], seed: 4);
        await using var s = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path);
        List<BlockWriteResult> results = await c.WriteAllAsync(s, 256 * 1024);
        Assert.Equal(2, results.Count(r => r == BlockWriteResult.PieceVerified));
        await s.DisposeAsync();

        await using var fresh = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path);
        Assert.True((await fresh.CheckExistingAsync(null, CancellationToken.None)).AllSet);
        await fresh.DisposeAsync();
        using (var f = File.Open(Path.Combine(dir.Path, "big", "x"), FileMode.Open)) { f.Position = 5_000_000; f.WriteByte(1); f.WriteByte(2); }
        await using var third = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path);
        Assert.Equal([0], Missing(await third.CheckExistingAsync(null, CancellationToken.None)));
    }

    [Theory]
    [InlineData(1)] // one disk worker: reads and hashes in a pipeline
    [InlineData(4)] // several: each worker reads and hashes its own batches
    public async Task Every_batch_is_checked_whatever_the_disk_concurrency(int concurrency)
    {
        using var dir = new TempDir();
        await using var disk = new DiskService(concurrency);
        // 64 pieces of 256 KiB in two files: 4 batches of 16 pieces (4 MiB reads).
        TestContent c = new(256 * 1024, [("m/x", 10 * 1024 * 1024 + 123, false), ("m/y", 6 * 1024 * 1024 - 123, false)], seed: 8);
        await using (var s = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path)) await c.WriteAllAsync(s, 64 * 1024);
        foreach (long at in new long[] { 5, 5 * 1024 * 1024, 12 * 1024 * 1024 + 7 }) // pieces 0, 20 and 48
        {
            string file = at < 10 * 1024 * 1024 + 123 ? "x" : "y";
            long offset = file == "x" ? at : at - (10 * 1024 * 1024 + 123);
            using FileStream f = File.Open(Path.Combine(dir.Path, "m", file), FileMode.Open, FileAccess.ReadWrite);
            f.Position = offset;
            f.WriteByte(0xAA);
            f.WriteByte(0x55);
        }
        await using var fresh = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path);
        BitField have = await fresh.CheckExistingAsync(null, CancellationToken.None);
        Assert.Equal([0, 20, 48], Missing(have));
        Assert.Equal(61, Enumerable.Range(0, 64).Count(fresh.IsPieceVerified));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public async Task Check_can_be_cancelled(int concurrency)
    {
        using var dir = new TempDir();
        await using var disk = new DiskService(concurrency);
        TestContent c = Content();
        await using var s = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => s.CheckExistingAsync(null, cts.Token));
    }
}
