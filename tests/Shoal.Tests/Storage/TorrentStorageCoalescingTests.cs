using System.Collections.Concurrent;
using Shoal.Storage;

namespace Shoal.Tests.Storage;

/// <summary>Whole-piece coalescing: buffered pieces, the direct-mode fallback beyond the budget, and budget accounting.</summary>
public sealed class TorrentStorageCoalescingTests
{
    private const int Block = 16 * 1024;
    private const int PieceLength = 64 * 1024;

    // 8 pieces of 64 KiB in one file, the last one short.
    private static TestContent OneFile(int seed = 1) => new(PieceLength, [("t/f.bin", PieceLength * 7L + 5000, false)], seed);

    private static byte[] ReadFile(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var bytes = new byte[fs.Length];
        fs.ReadExactly(bytes);
        return bytes;
    }

    [Fact]
    public async Task Buffered_piece_is_on_disk_when_verified_and_not_before()
    {
        using var dir = new TempDir();
        await using var disk = new DiskService();
        // Piece 1 spans the end of a, all of b and the start of c.
        TestContent c = new(PieceLength, [("t/a", 70_000, false), ("t/b", 20_000, false), ("t/c", 60_000, false)], seed: 2);
        await using var s = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path);
        List<(int Offset, int Length)> blocks = c.Blocks(1, Block);
        for (int i = 0; i < blocks.Count - 1; i++)
        {
            Assert.Equal(BlockWriteResult.Stored, await s.WriteBlockAsync(1, blocks[i].Offset, c.Block(1, blocks[i].Offset, blocks[i].Length)));
            Assert.False(Directory.Exists(Path.Combine(dir.Path, "t"))); // nothing touches the disk before the piece verifies
        }
        (int lastOffset, int lastLength) = blocks[^1];
        Assert.Equal(BlockWriteResult.PieceVerified, await s.WriteBlockAsync(1, lastOffset, c.Block(1, lastOffset, lastLength)));
        Assert.True(s.IsPieceVerified(1));

        // No flush: PieceVerified means the bytes were handed to the OS, so any reader sees them now.
        long pieceStart = c.Layout.GetPieceOffset(1);
        byte[] a = ReadFile(s.GetFilePath(0)!), b = ReadFile(s.GetFilePath(1)!), cc = ReadFile(s.GetFilePath(2)!);
        Assert.Equal(70_000, a.Length);
        Assert.Equal(c.Data.AsSpan((int)pieceStart, 70_000 - (int)pieceStart).ToArray(), a.AsSpan((int)pieceStart).ToArray());
        Assert.Equal(c.FileBytes(1), b);
        int inC = (int)(pieceStart + PieceLength - 90_000);
        Assert.Equal(inC, cc.Length); // c was written up to the end of piece 1 and no further
        Assert.Equal(c.Data.AsSpan(90_000, inC).ToArray(), cc);
        Assert.Equal(0, s.WriteCacheBytes);
    }

    [Fact]
    public async Task Failed_buffered_piece_writes_nothing()
    {
        using var dir = new TempDir();
        await using var disk = new DiskService();
        TestContent c = OneFile(3);
        await using var s = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path);

        // A piece that fails before anything else was written: the file does not even exist.
        List<(int Offset, int Length)> blocks = c.Blocks(2, Block);
        var results = new List<BlockWriteResult>();
        for (int i = 0; i < blocks.Count; i++)
        {
            byte[] data = c.Block(2, blocks[i].Offset, blocks[i].Length).ToArray();
            if (i == 1) data[7] ^= 0x55;
            results.Add(await s.WriteBlockAsync(2, blocks[i].Offset, data));
        }
        Assert.Equal(BlockWriteResult.PieceFailed, results[^1]);
        Assert.False(File.Exists(s.GetFilePath(0)));
        Assert.Equal(0, s.WriteCacheBytes);

        // Piece 0 verified, then piece 3 fails: the file ends where piece 0 ends.
        foreach (var (o, l) in c.Blocks(0, Block)) await s.WriteBlockAsync(0, o, c.Block(0, o, l));
        Assert.True(s.IsPieceVerified(0));
        BlockWriteResult last = BlockWriteResult.Ignored;
        foreach (var (o, l) in c.Blocks(3, Block)) last = await s.WriteBlockAsync(3, o, new byte[l]); // all zeros: wrong
        Assert.Equal(BlockWriteResult.PieceFailed, last);
        Assert.Equal(PieceLength, new FileInfo(s.GetFilePath(0)!).Length);
        Assert.False(s.IsPieceVerified(3));
        Assert.Equal(0, s.WriteCacheBytes);
    }

    [Fact]
    public async Task Pieces_beyond_the_budget_fall_back_to_direct_writes_and_verify()
    {
        using var dir = new TempDir();
        await using var disk = new DiskService();
        TestContent c = OneFile(4);
        // Room for exactly one piece buffer.
        await using var s = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path, new StorageOptions { WriteCacheBudget = PieceLength });

        // Piece 0 takes the whole budget with its first block.
        Assert.Equal(BlockWriteResult.Stored, await s.WriteBlockAsync(0, 0, c.Block(0, 0, Block)));
        Assert.Equal(PieceLength, s.WriteCacheBytes);
        Assert.False(File.Exists(s.GetFilePath(0)));

        // Piece 5 cannot have a buffer: its blocks go to disk one by one, before it is verified.
        Assert.Equal(BlockWriteResult.Stored, await s.WriteBlockAsync(5, 0, c.Block(5, 0, Block)));
        Assert.True(File.Exists(s.GetFilePath(0)));
        Assert.Equal(5L * PieceLength + Block, new FileInfo(s.GetFilePath(0)!).Length);
        Assert.False(s.IsPieceVerified(5));
        BlockWriteResult r = BlockWriteResult.Ignored;
        foreach (var (o, l) in c.Blocks(5, Block).Skip(1)) r = await s.WriteBlockAsync(5, o, c.Block(5, o, l));
        Assert.Equal(BlockWriteResult.PieceVerified, r);
        Assert.Equal(PieceLength, s.WriteCacheBytes); // still only piece 0's buffer

        foreach (var (o, l) in c.Blocks(0, Block).Skip(1)) r = await s.WriteBlockAsync(0, o, c.Block(0, o, l));
        Assert.Equal(BlockWriteResult.PieceVerified, r);
        Assert.Equal(0, s.WriteCacheBytes);

        byte[] file = ReadFile(s.GetFilePath(0)!);
        Assert.Equal(c.Data.AsSpan(0, PieceLength).ToArray(), file.AsSpan(0, PieceLength).ToArray());
        Assert.Equal(c.Data.AsSpan(5 * PieceLength, PieceLength).ToArray(), file.AsSpan(5 * PieceLength, PieceLength).ToArray());
    }

    [Fact]
    public async Task A_piece_larger_than_the_budget_always_uses_direct_writes()
    {
        using var dir = new TempDir();
        await using var disk = new DiskService();
        TestContent c = OneFile(5);
        await using var s = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path, new StorageOptions { WriteCacheBudget = PieceLength - 1 });
        Assert.Equal(BlockWriteResult.Stored, await s.WriteBlockAsync(1, 0, c.Block(1, 0, Block)));
        Assert.True(File.Exists(s.GetFilePath(0))); // written at once
        Assert.Equal(0, s.WriteCacheBytes);
        // The short last piece (5000 bytes) does fit.
        int lastPiece = c.Layout.PieceCount - 1;
        Assert.Equal(BlockWriteResult.Stored, await s.WriteBlockAsync(lastPiece, 0, c.Block(lastPiece, 0, 1000)));
        Assert.Equal(5000, s.WriteCacheBytes);
        Assert.Equal(BlockWriteResult.PieceVerified, await s.WriteBlockAsync(lastPiece, 1000, c.Block(lastPiece, 1000, 4000)));
        Assert.Equal(0, s.WriteCacheBytes);
    }

    [Fact]
    public async Task Non_final_buffered_blocks_complete_synchronously_without_allocating()
    {
        using var dir = new TempDir();
        await using var disk = new DiskService();
        TestContent c = new(1024 * 1024, [("t/f", 3L * 1024 * 1024, false)], seed: 6);
        await using var s = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path);
        // Warm up: one whole piece (creates the hash object, JITs everything).
        foreach (var (o, l) in c.Blocks(0, Block)) await s.WriteBlockAsync(0, o, c.Block(0, o, l));

        List<(int Offset, int Length)> blocks = c.Blocks(1, Block);
        Assert.True(s.WriteBlockAsync(1, 0, c.Block(1, 0, Block)).IsCompletedSuccessfully); // rents the piece buffer
        var memories = blocks.Select(b => c.Block(1, b.Offset, b.Length)).ToArray();
        long before = GC.GetAllocatedBytesForCurrentThread();
        int synchronous = 0;
        for (int i = 1; i < blocks.Count - 1; i++)
        {
            ValueTask<BlockWriteResult> vt = s.WriteBlockAsync(1, blocks[i].Offset, memories[i]);
            if (vt.IsCompletedSuccessfully && await vt == BlockWriteResult.Stored) synchronous++; // completed: await does not suspend
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(blocks.Count - 2, synchronous);
        Assert.Equal(0, allocated);
        Assert.Equal(BlockWriteResult.PieceVerified, await s.WriteBlockAsync(1, blocks[^1].Offset, memories[^1]));
    }

    [Theory]
    [InlineData(32L * 1024 * 1024, 11)] // every piece buffered
    [InlineData(3L * PieceLength, 12)] // a mix: some pieces buffered, the rest direct
    [InlineData(0L, 13)] // every piece direct
    public async Task Concurrent_writers_of_the_same_and_different_pieces_verify_each_piece_once(long budget, int seed)
    {
        using var dir = new TempDir();
        await using var disk = new DiskService(2);
        TestContent c = OneFile(seed);
        await using var s = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path, new StorageOptions { WriteCacheBudget = budget });
        var all = new List<(int Piece, int Offset, int Length)>();
        for (int p = 0; p < c.Layout.PieceCount; p++)
            foreach (var (o, l) in c.Blocks(p, 4096)) all.Add((p, o, l));
        new Random(seed).Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(all));
        var queue = new ConcurrentQueue<(int Piece, int Offset, int Length)>(all);
        var results = new ConcurrentBag<BlockWriteResult>();
        long maxCache = 0;

        async Task Writer()
        {
            while (queue.TryDequeue(out var b))
            {
                results.Add(await s.WriteBlockAsync(b.Piece, b.Offset, c.Block(b.Piece, b.Offset, b.Length)));
                long now = s.WriteCacheBytes;
                long seen;
                while (now > (seen = Interlocked.Read(ref maxCache)) && Interlocked.CompareExchange(ref maxCache, now, seen) != seen) { }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(Writer)));
        Assert.Equal(c.Layout.PieceCount, results.Count(r => r == BlockWriteResult.PieceVerified));
        Assert.DoesNotContain(BlockWriteResult.PieceFailed, results);
        Assert.True(maxCache <= budget, $"cache reached {maxCache} > {budget}");
        Assert.Equal(0, s.WriteCacheBytes);
        Assert.Equal(c.Data, ReadFile(s.GetFilePath(0)!));
    }

    [Fact]
    public async Task Budget_returns_to_zero_after_completion_failure_and_reset()
    {
        using var dir = new TempDir();
        await using var disk = new DiskService();
        TestContent c = OneFile(7);
        await using var s = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path, new StorageOptions { WriteCacheBudget = 4L * PieceLength });

        // Three pieces in progress, one block each (out of order, so nothing is hashed yet).
        for (int p = 0; p < 3; p++) await s.WriteBlockAsync(p, Block, c.Block(p, Block, Block));
        Assert.Equal(3L * PieceLength, s.WriteCacheBytes);

        // Piece 0 completes.
        foreach (var (o, l) in c.Blocks(0, Block)) await s.WriteBlockAsync(0, o, c.Block(0, o, l));
        Assert.True(s.IsPieceVerified(0));
        Assert.Equal(2L * PieceLength, s.WriteCacheBytes);

        // Piece 1 fails.
        BlockWriteResult last = BlockWriteResult.Ignored;
        foreach (var (o, l) in c.Blocks(1, Block)) last = await s.WriteBlockAsync(1, o, o == Block ? c.Block(1, o, l) : new byte[l]);
        Assert.Equal(BlockWriteResult.PieceFailed, last);
        Assert.Equal(PieceLength, s.WriteCacheBytes);

        // Piece 2 is given up.
        s.ResetPiece(2);
        Assert.Equal(0, s.WriteCacheBytes);
        s.ResetPiece(2); // twice is harmless
        s.ResetPiece(0); // a verified piece is left alone
        Assert.True(s.IsPieceVerified(0));
        Assert.Equal(0, s.WriteCacheBytes);

        // All three can be downloaded (again); a reset piece accepts its old range again.
        Assert.Equal(BlockWriteResult.Stored, await s.WriteBlockAsync(2, Block, c.Block(2, Block, Block)));
        for (int p = 1; p < 3; p++)
        {
            last = BlockWriteResult.Ignored;
            foreach (var (o, l) in c.Blocks(p, Block))
            {
                BlockWriteResult r = await s.WriteBlockAsync(p, o, c.Block(p, o, l));
                if (r != BlockWriteResult.Ignored) last = r;
            }
            Assert.Equal(BlockWriteResult.PieceVerified, last);
        }
        Assert.Equal(0, s.WriteCacheBytes);
    }

    [Fact]
    public async Task Resets_racing_with_writers_never_leak_budget_or_verify_bad_data()
    {
        using var dir = new TempDir();
        await using var disk = new DiskService(2);
        TestContent c = OneFile(8);
        await using var s = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path, new StorageOptions { WriteCacheBudget = 4L * PieceLength });
        var rng = new Random(8);
        for (int round = 0; round < 30; round++)
        {
            int piece = rng.Next(c.Layout.PieceCount - 1);
            if (s.IsPieceVerified(piece)) continue;
            List<(int Offset, int Length)> blocks = c.Blocks(piece, 4096);
            Task<BlockWriteResult[]> writers = Task.WhenAll(blocks.Select(b => Task.Run(async () =>
                await s.WriteBlockAsync(piece, b.Offset, c.Block(piece, b.Offset, b.Length)))));
            for (int i = 0; i < 3; i++)
            {
                await Task.Yield();
                s.ResetPiece(piece);
            }
            BlockWriteResult[] results = await writers;
            Assert.DoesNotContain(BlockWriteResult.PieceFailed, results); // only correct data was ever written
            if (!s.IsPieceVerified(piece)) s.ResetPiece(piece); // abandon whatever is left
            Assert.Equal(0, s.WriteCacheBytes);
        }
        // Whether any racing round verified depends on timing; one clean write makes sure the check below
        // always has a piece to look at (the last one, never picked above).
        int clean = c.Layout.PieceCount - 1;
        BlockWriteResult lastResult = BlockWriteResult.Stored;
        foreach ((int offset, int length) in c.Blocks(clean, 4096))
            lastResult = await s.WriteBlockAsync(clean, offset, c.Block(clean, offset, length));
        Assert.Equal(BlockWriteResult.PieceVerified, lastResult);

        // Whatever was reported verified really is on disk.
        var verified = new List<int>();
        for (int p = 0; p < c.Layout.PieceCount; p++) if (s.IsPieceVerified(p)) verified.Add(p);
        Assert.NotEmpty(verified);
        BitField onDisk = await s.CheckExistingAsync();
        foreach (int p in verified) Assert.True(onDisk[p], $"piece {p} was verified but is not on disk");
    }
}
