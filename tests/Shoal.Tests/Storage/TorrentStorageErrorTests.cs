using Shoal.Storage;

namespace Shoal.Tests.Storage;

public sealed class TorrentStorageErrorTests
{
    [Fact]
    public async Task Writing_under_a_regular_file_is_a_storage_error_and_leaves_the_piece_unverified()
    {
        using var dir = new TempDir();
        // "t" is a file, so "t/sub/x" can never be created (root ignores permissions, this it cannot ignore).
        File.WriteAllText(Path.Combine(dir.Path, "t"), "in the way");
        await using var disk = new DiskService();
        TestContent c = new(16 * 1024, [("t/sub/x", 40_000, false)]);
        await using var s = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path);

        StorageException e = await Assert.ThrowsAsync<StorageException>(async () => await s.WriteBlockAsync(0, 0, c.Block(0, 0, 16 * 1024)));
        Assert.Contains(Path.Combine("t", "sub", "x"), e.Message);
        Assert.Equal(s.GetFilePath(0), e.FilePath);
        Assert.False(s.IsPieceVerified(0));

        // The failed block did not count: once the obstacle is gone the same block is accepted and the piece verifies.
        File.Delete(Path.Combine(dir.Path, "t"));
        Assert.Equal(BlockWriteResult.PieceVerified, await s.WriteBlockAsync(0, 0, c.Block(0, 0, 16 * 1024)));
    }

    [Theory]
    [InlineData(32L * 1024 * 1024)] // buffered: the whole-piece write fails
    [InlineData(0L)] // direct: the second block's write fails
    public async Task Failed_write_resets_the_whole_piece(long budget)
    {
        using var dir = new TempDir();
        await using var disk = new DiskService();
        // Piece 0 spans a (writable) and b/x (blocked by a file named b).
        TestContent c = new(16 * 1024, [("t/a", 10_000, false), ("t/b/x", 10_000, false)]);
        await using var s = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path, new StorageOptions { WriteCacheBudget = budget });
        Assert.Equal(BlockWriteResult.Stored, await s.WriteBlockAsync(0, 0, c.Block(0, 0, 8192)));
        Directory.CreateDirectory(Path.Combine(dir.Path, "t")); // buffered mode has not created it yet
        File.WriteAllText(Path.Combine(dir.Path, "t", "b"), "blocker");
        await Assert.ThrowsAsync<StorageException>(async () => await s.WriteBlockAsync(0, 8192, c.Block(0, 8192, 8192)));
        File.Delete(Path.Combine(dir.Path, "t", "b"));
        // The first block was dropped with the reset, so it is accepted again rather than ignored.
        Assert.Equal(BlockWriteResult.Stored, await s.WriteBlockAsync(0, 0, c.Block(0, 0, 8192)));
        Assert.Equal(BlockWriteResult.PieceVerified, await s.WriteBlockAsync(0, 8192, c.Block(0, 8192, 8192)));
        Assert.Equal(0, s.WriteCacheBytes);
    }

    [Fact]
    public void Errors_are_classified()
    {
        var full = StorageException.From(new IOException("No space left on device", OperatingSystem.IsWindows() ? unchecked((int)0x80070070) : 28), "write", "/x/y");
        Assert.Equal(StorageErrorKind.DiskFull, full.Kind);
        Assert.Contains("disk is full", full.Message);
        Assert.Contains("/x/y", full.Message);
        Assert.IsAssignableFrom<IOException>(full);
        Assert.Equal(StorageErrorKind.AccessDenied, StorageException.From(new UnauthorizedAccessException("no"), "write", "/x").Kind);
        if (!OperatingSystem.IsWindows())
            Assert.Equal(StorageErrorKind.ReadOnly, StorageException.From(new IOException("ro", 30), "write", "/x").Kind);
    }

    [Fact]
    public async Task Disposed_storage_refuses_work()
    {
        using var dir = new TempDir();
        await using var disk = new DiskService();
        TestContent c = new(16 * 1024, [("t/a", 20_000, false)]);
        var s = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path);
        await s.DisposeAsync();
        Assert.Throws<ObjectDisposedException>(() => { _ = s.WriteBlockAsync(0, 0, new byte[10]); });
    }

    [Fact]
    public async Task Disposed_disk_service_fails_posted_work_instead_of_hanging()
    {
        using var dir = new TempDir();
        var disk = new DiskService();
        TestContent c = new(16 * 1024, [("t/a", 20_000, false)]);
        await using var s = TorrentStorage.Create(disk, c.Layout, c.Verifier, dir.Path);
        await disk.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await s.WriteBlockAsync(0, 0, c.Block(0, 0, 100)));
    }
}
