using Shoal.Storage;

namespace Shoal.Tests.Storage;

/// <summary>
/// <see cref="StorageOptions.OsCacheWindow"/>: written data older than the window leaves the page cache and still
/// reads back. Residency is probed with the storage's own <see cref="TorrentStorage.TryReadBlockCached"/>, which
/// succeeds only when every byte is in the page cache (Linux; elsewhere the window is not applied and the probe
/// always says no, so these tests check nothing there).
/// </summary>
public sealed class TorrentStorageOsCacheTests
{
    private const int Block = 16 * 1024;
    private const int PieceLength = 256 * 1024;
    private const int Pieces = 64; // 16 MiB

    private static async Task<bool[]> DownloadAndProbeAsync(long? window, int[] probedPieces, bool readBack)
    {
        using var dir = new TempDir();
        await using var disk = new DiskService();
        var content = new TestContent(PieceLength, [("t/f.bin", (long)PieceLength * Pieces, false)], seed: 7);
        await using var storage = TorrentStorage.Create(disk, content.Layout, content.Verifier, dir.Path, new StorageOptions { OsCacheWindow = window });
        Assert.All(await content.WriteAllAsync(storage, Block), r => Assert.NotEqual(BlockWriteResult.PieceFailed, r));

        // One probe per piece: a probe that misses may start the kernel's read-ahead, which would make the pieces
        // after it look cached.
        var cached = new bool[probedPieces.Length];
        var buffer = new byte[Block];
        for (int i = 0; i < probedPieces.Length; i++) cached[i] = storage.TryReadBlockCached(probedPieces[i], 0, buffer);

        if (readBack)
        {
            for (int p = 0; p < Pieces; p += 7)
            {
                await storage.ReadBlockAsync(p, Block, buffer);
                Assert.Equal(content.Block(p, Block, Block).ToArray(), buffer);
            }
        }
        return cached;
    }

    [Fact]
    public async Task Written_data_older_than_the_window_leaves_the_page_cache_and_still_reads_back()
    {
        if (!OperatingSystem.IsLinux()) return;
        // Window 2 MiB = the last 8 pieces. Pieces 0 and 20 are long out of it, 63 was written last.
        bool[] cached = await DownloadAndProbeAsync(2 * 1024 * 1024, [0, 20, 63], readBack: true);
        Assert.Equal([false, false, true], cached);
    }

    [Fact]
    public async Task Without_a_window_everything_written_stays_in_the_page_cache()
    {
        if (!OperatingSystem.IsLinux()) return;
        bool[] cached = await DownloadAndProbeAsync(null, [0, 20, 63], readBack: false);
        Assert.Equal([true, true, true], cached);
    }
}
