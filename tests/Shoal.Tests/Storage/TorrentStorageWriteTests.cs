using Shoal.Storage;

namespace Shoal.Tests.Storage;

public sealed class TorrentStorageWriteTests
{
    private const int Block = 16 * 1024;

    // 5 pieces of 64 KiB over files that do not line up with pieces, in nested folders, with an empty file.
    private static TestContent MultiFile(int seed = 1) => new(64 * 1024,
    [
        ("t/a.bin", 10_000, false),
        ("t/empty", 0, false),
        ("t/sub/b.bin", 100_000, false),
        ("t/sub/deeper/c.bin", 150_000, false),
        ("t/d.bin", 7, false),
    ], seed);

    private static void AssertFilesMatch(TestContent c, TorrentStorage s)
    {
        for (int i = 0; i < c.Layout.Files.Count; i++)
        {
            if (c.Layout.Files[i].IsPadding || c.Layout.Files[i].Length == 0) continue;
            Assert.Equal(c.FileBytes(i), File.ReadAllBytes(s.GetFilePath(i)!));
        }
    }

    [Fact]
    public async Task In_order_blocks_verify_every_piece_once()
    {
        using var dir = new TempDir();
        await using var disk = new DiskService();
        TestContent c = MultiFile();
        await using var s = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path);
        for (int p = 0; p < c.Layout.PieceCount; p++)
        {
            List<(int Offset, int Length)> blocks = c.Blocks(p, Block);
            for (int i = 0; i < blocks.Count; i++)
            {
                BlockWriteResult r = await s.WriteBlockAsync(p, blocks[i].Offset, c.Block(p, blocks[i].Offset, blocks[i].Length));
                Assert.Equal(i == blocks.Count - 1 ? BlockWriteResult.PieceVerified : BlockWriteResult.Stored, r);
            }
            Assert.True(s.IsPieceVerified(p));
        }
        await s.FlushAsync();
        AssertFilesMatch(c, s);
        Assert.Equal(0, s.WriteCacheBytes);
    }

    [Fact]
    public async Task Reverse_order_blocks_verify()
    {
        using var dir = new TempDir();
        await using var disk = new DiskService();
        TestContent c = MultiFile();
        await using var s = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path);
        for (int p = c.Layout.PieceCount - 1; p >= 0; p--)
        {
            List<(int Offset, int Length)> blocks = c.Blocks(p, Block);
            for (int i = blocks.Count - 1; i >= 0; i--)
            {
                BlockWriteResult r = await s.WriteBlockAsync(p, blocks[i].Offset, c.Block(p, blocks[i].Offset, blocks[i].Length));
                Assert.Equal(i == 0 ? BlockWriteResult.PieceVerified : BlockWriteResult.Stored, r);
            }
        }
        AssertFilesMatch(c, s);
        Assert.Equal(0, s.WriteCacheBytes);
    }

    [Theory]
    [InlineData(7, 64L * 1024 * 1024)]
    [InlineData(8, 0L)] // no cache at all: every early block is read back from disk
    [InlineData(9, 40_000L)] // some cached, some read back
    public async Task Random_order_blocks_verify(int seed, long budget)
    {
        using var dir = new TempDir();
        await using var disk = new DiskService();
        TestContent c = MultiFile(seed);
        await using var s = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path, new StorageOptions { WriteCacheBudget = budget });
        var all = new List<(int Piece, int Offset, int Length)>();
        for (int p = 0; p < c.Layout.PieceCount; p++)
            foreach (var (o, l) in c.Blocks(p, Block)) all.Add((p, o, l));
        var rng = new Random(seed);
        rng.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(all));
        int verified = 0;
        foreach (var (p, o, l) in all)
        {
            BlockWriteResult r = await s.WriteBlockAsync(p, o, c.Block(p, o, l));
            Assert.NotEqual(BlockWriteResult.PieceFailed, r);
            Assert.True(s.WriteCacheBytes <= budget);
            if (r == BlockWriteResult.PieceVerified) verified++;
        }
        Assert.Equal(c.Layout.PieceCount, verified);
        AssertFilesMatch(c, s);
        Assert.Equal(0, s.WriteCacheBytes);
    }

    [Fact]
    public async Task Concurrent_writes_of_the_same_pieces_verify_once_each()
    {
        using var dir = new TempDir();
        await using var disk = new DiskService(4);
        TestContent c = new(256 * 1024, [("t/big.bin", 256 * 1024 * 6 + 1000, false)], seed: 3);
        await using var s = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path);
        var tasks = new List<Task<BlockWriteResult>>();
        var rng = new Random(3);
        var all = new List<(int Piece, int Offset, int Length)>();
        for (int p = 0; p < c.Layout.PieceCount; p++)
            foreach (var (o, l) in c.Blocks(p, 4096)) all.Add((p, o, l));
        rng.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(all));
        foreach (var (p, o, l) in all)
            tasks.Add(s.WriteBlockAsync(p, o, c.Block(p, o, l)).AsTask()); // all posted without waiting
        BlockWriteResult[] results = await Task.WhenAll(tasks);
        Assert.Equal(c.Layout.PieceCount, results.Count(r => r == BlockWriteResult.PieceVerified));
        Assert.DoesNotContain(BlockWriteResult.PieceFailed, results);
        Assert.Equal(c.Data, File.ReadAllBytes(s.GetFilePath(0)!));
    }

    [Fact]
    public async Task Corrupt_block_fails_the_piece_and_a_correct_retry_verifies()
    {
        using var dir = new TempDir();
        await using var disk = new DiskService();
        TestContent c = MultiFile();
        await using var s = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path);
        List<(int Offset, int Length)> blocks = c.Blocks(1, Block);
        byte[] bad = c.Block(1, blocks[2].Offset, blocks[2].Length).ToArray();
        bad[100] ^= 0xFF;
        for (int i = 0; i < blocks.Count; i++)
        {
            ReadOnlyMemory<byte> data = i == 2 ? bad : c.Block(1, blocks[i].Offset, blocks[i].Length);
            BlockWriteResult r = await s.WriteBlockAsync(1, blocks[i].Offset, data);
            Assert.Equal(i == blocks.Count - 1 ? BlockWriteResult.PieceFailed : BlockWriteResult.Stored, r);
        }
        Assert.False(s.IsPieceVerified(1));

        // The piece was reset: the same ranges are accepted again (not Ignored).
        for (int i = blocks.Count - 1; i >= 0; i--)
        {
            BlockWriteResult r = await s.WriteBlockAsync(1, blocks[i].Offset, c.Block(1, blocks[i].Offset, blocks[i].Length));
            Assert.Equal(i == 0 ? BlockWriteResult.PieceVerified : BlockWriteResult.Stored, r);
        }
        Assert.True(s.IsPieceVerified(1));
    }

    [Fact]
    public async Task Duplicate_blocks_are_ignored()
    {
        using var dir = new TempDir();
        await using var disk = new DiskService();
        TestContent c = MultiFile();
        await using var s = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path);
        Assert.Equal(BlockWriteResult.Stored, await s.WriteBlockAsync(0, Block, c.Block(0, Block, Block)));
        Assert.Equal(BlockWriteResult.Ignored, await s.WriteBlockAsync(0, Block, c.Block(0, Block, Block)));
        Assert.Equal(BlockWriteResult.Stored, await s.WriteBlockAsync(0, 0, c.Block(0, 0, Block)));
        Assert.Equal(BlockWriteResult.Ignored, await s.WriteBlockAsync(0, 0, c.Block(0, 0, 100))); // inside a received range
        Assert.Equal(BlockWriteResult.Stored, await s.WriteBlockAsync(0, 2 * Block, c.Block(0, 2 * Block, Block)));
        Assert.Equal(BlockWriteResult.PieceVerified, await s.WriteBlockAsync(0, 3 * Block, c.Block(0, 3 * Block, Block)));

        // A verified piece is never touched again, even by garbage.
        byte[] garbage = new byte[Block];
        Assert.Equal(BlockWriteResult.Ignored, await s.WriteBlockAsync(0, 0, garbage));
        byte[] back = new byte[Block];
        await s.ReadBlockAsync(0, 0, back);
        Assert.Equal(c.Block(0, 0, Block).ToArray(), back);
    }

    [Fact]
    public async Task Partly_overlapping_blocks_only_fill_the_gaps()
    {
        using var dir = new TempDir();
        await using var disk = new DiskService();
        TestContent c = MultiFile();
        await using var s = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path);
        Assert.Equal(BlockWriteResult.Stored, await s.WriteBlockAsync(2, 10_000, c.Block(2, 10_000, 5_000)));
        Assert.Equal(BlockWriteResult.Stored, await s.WriteBlockAsync(2, 30_000, c.Block(2, 30_000, 5_000)));
        // Covers [0, 40000): three gaps around the two received ranges.
        Assert.Equal(BlockWriteResult.Stored, await s.WriteBlockAsync(2, 0, c.Block(2, 0, 40_000)));
        Assert.Equal(BlockWriteResult.PieceVerified, await s.WriteBlockAsync(2, 36_000, c.Block(2, 36_000, 65536 - 36_000)));
    }

    [Fact]
    public async Task Reset_piece_drops_partial_state()
    {
        using var dir = new TempDir();
        await using var disk = new DiskService();
        TestContent c = MultiFile();
        await using var s = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path, new StorageOptions { WriteCacheBudget = 1 << 20 });
        Assert.Equal(BlockWriteResult.Stored, await s.WriteBlockAsync(3, Block, c.Block(3, Block, Block)));
        Assert.Equal(c.Layout.GetPieceSize(3), s.WriteCacheBytes); // the whole piece buffer is charged from the first block
        s.ResetPiece(3);
        Assert.Equal(0, s.WriteCacheBytes);
        List<BlockWriteResult> results = [];
        foreach (var (o, l) in c.Blocks(3, Block))
            results.Add(await s.WriteBlockAsync(3, o, c.Block(3, o, l)));
        Assert.Equal([BlockWriteResult.Stored, BlockWriteResult.Stored, BlockWriteResult.Stored, BlockWriteResult.PieceVerified], results);
    }

    [Fact]
    public async Task Block_outside_the_piece_is_an_argument_error()
    {
        using var dir = new TempDir();
        await using var disk = new DiskService();
        TestContent c = MultiFile();
        await using var s = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path);
        int last = c.Layout.PieceCount - 1;
        int lastSize = c.Layout.GetPieceSize(last);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await s.WriteBlockAsync(last, lastSize - 10, new byte[11]));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await s.WriteBlockAsync(0, -1, new byte[1]));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await s.WriteBlockAsync(c.Layout.PieceCount, 0, new byte[1]));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await s.WriteBlockAsync(0, 0, ReadOnlyMemory<byte>.Empty));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await s.ReadBlockAsync(0, 65000, new byte[1000]));
    }

    [Fact]
    public async Task Padding_is_never_written_and_reads_as_zeros()
    {
        using var dir = new TempDir();
        await using var disk = new DiskService();
        TestContent c = new(32 * 1024, [("t/a", 20_000, false), ("t/.pad/12768", 12_768, true), ("t/b", 40_000, false)]);
        await using var s = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path);
        List<BlockWriteResult> results = await c.WriteAllAsync(s, Block);
        Assert.Equal(c.Layout.PieceCount, results.Count(r => r == BlockWriteResult.PieceVerified));
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "t", ".pad")));
        Assert.Null(s.GetFilePath(1));
        byte[] back = new byte[32 * 1024];
        await s.ReadBlockAsync(0, 0, back);
        Assert.Equal(c.Block(0, 0, back.Length).ToArray(), back);
        Assert.All(back.AsSpan(20_000).ToArray(), b => Assert.Equal(0, b));
    }

    [Fact]
    public async Task Reads_cross_file_boundaries()
    {
        using var dir = new TempDir();
        await using var disk = new DiskService();
        TestContent c = new(16 * 1024, [("t/1", 100, false), ("t/2", 5000, false), ("t/x/3", 1, false), ("t/4", 30_000, false)], seed: 5);
        await using var s = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path);
        await c.WriteAllAsync(s, 4096);
        var rng = new Random(5);
        for (int i = 0; i < 200; i++)
        {
            int piece = rng.Next(c.Layout.PieceCount);
            int size = c.Layout.GetPieceSize(piece);
            int offset = rng.Next(size);
            int length = 1 + rng.Next(size - offset);
            byte[] back = new byte[length];
            await s.ReadBlockAsync(piece, offset, back);
            Assert.Equal(c.Block(piece, offset, length).ToArray(), back);
        }
    }

    [Fact]
    public async Task Reading_a_file_not_written_yet_is_a_storage_error()
    {
        using var dir = new TempDir();
        await using var disk = new DiskService();
        TestContent c = MultiFile();
        await using var s = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path);
        StorageException e = await Assert.ThrowsAsync<StorageException>(async () => await s.ReadBlockAsync(0, 0, new byte[100]));
        Assert.Equal(StorageErrorKind.NotFound, e.Kind);
        Assert.Contains("a.bin", e.Message);
        // A file that exists but is too short.
        await s.WriteBlockAsync(3, 0, c.Block(3, 0, 100));
        e = await Assert.ThrowsAsync<StorageException>(async () => await s.ReadBlockAsync(3, 0, new byte[200]));
        Assert.Equal(StorageErrorKind.NotFound, e.Kind);
    }

    [Fact]
    public async Task Few_open_handles_still_serve_many_files()
    {
        using var dir = new TempDir();
        await using var disk = new DiskService(maxOpenFiles: 2);
        var files = Enumerable.Range(0, 20).Select(i => ($"t/f{i}", (long)(3000 + i * 100), false)).ToArray();
        TestContent c = new(8192, files, seed: 11);
        await using var s = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path);
        List<BlockWriteResult> results = await c.WriteAllAsync(s, 1024);
        Assert.Equal(c.Layout.PieceCount, results.Count(r => r == BlockWriteResult.PieceVerified));
        await s.DisposeAsync();
        AssertFilesMatch(c, s);
    }

    [Fact]
    public async Task Empty_files_are_created_on_request()
    {
        using var dir = new TempDir();
        await using var disk = new DiskService();
        TestContent c = MultiFile();
        await using var s = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path);
        Assert.False(File.Exists(s.GetFilePath(1)));
        await s.CreateEmptyFilesAsync();
        Assert.True(File.Exists(s.GetFilePath(1)));
        Assert.Equal(0, new FileInfo(s.GetFilePath(1)!).Length);
    }
}
