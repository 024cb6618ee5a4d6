using System.Net;
using Shoal.Metainfo;
using Shoal.Swarm;

namespace Shoal.Tests.Reliability;

/// <summary>
/// A download folder that fills up pauses the torrent, which resumes once writing works again; one that is
/// read-only stops the torrent with that error (a permanent error is not retried).
/// </summary>
[Collection(ReliabilityCollection.Name)]
public sealed class DiskFaultTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly string _root = Directory.CreateTempSubdirectory("shoal-disk-").FullName;
    private readonly string _mount;

    public DiskFaultTests()
    {
        _mount = Path.Combine(_root, "small-disk");
        Directory.CreateDirectory(_mount);
    }

    public void Dispose()
    {
        Tmpfs.Run("umount", _mount);
        Directory.Delete(_root, recursive: true);
    }

    [TmpfsFact]
    public async Task AFullDiskPausesTheDownloadAndItResumesWhenSpaceReturns()
    {
        Assert.Null(Tmpfs.Run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", _mount));
        await RunAsync(
            status => status.Error is { } error && error.Contains("full", StringComparison.OrdinalIgnoreCase),
            () => Tmpfs.Run("mount", "-o", "remount,size=16m", _mount));
    }

    [TmpfsFact]
    public async Task AReadOnlyFolderStopsTheDownloadWithOneErrorInsteadOfRetrying()
    {
        // Read-only is permanent (StorageException.IsPermanent): retrying every 10 s would only fetch the same
        // pieces again and again, and --exit-when-done would never exit.
        Assert.Null(Tmpfs.Run("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", _mount));
        Assert.Null(Tmpfs.Run("mount", "-o", "remount,ro", _mount));
        (Torrent torrent, byte[] content, string seedDir) = await CreateSeedAsync();
        var options = new SessionOptions { BindAddress = IPAddress.Loopback, ListenPort = 0, EnableDht = false, EnableLocalDiscovery = false };
        await using ShoalSession seeder = await ShoalSession.StartAsync(options);
        await seeder.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = seedDir });
        await using (ShoalSession leecher = await ShoalSession.StartAsync(options))
        {
            TorrentHandle handle = await leecher.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = _mount, Peers = [seeder.ListenEndPoint] });
            var failure = await Assert.ThrowsAnyAsync<IOException>(() => handle.Completion.WaitAsync(Patience));
            Assert.Contains("read-only", failure.Message, StringComparison.OrdinalIgnoreCase);
            TorrentStatus status = handle.GetStatus();
            Assert.Equal(TorrentState.Error, status.State);
            Assert.Contains("read-only", status.Error, StringComparison.OrdinalIgnoreCase);
        }

        // Once the folder is writable again, adding the torrent again finishes the download.
        Assert.Null(Tmpfs.Run("mount", "-o", "remount,rw", _mount));
        await using ShoalSession again = await ShoalSession.StartAsync(options);
        TorrentHandle retry = await again.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = _mount, Peers = [seeder.ListenEndPoint] });
        await retry.Completion.WaitAsync(Patience);
        Assert.Equal(content, await File.ReadAllBytesAsync(Path.Combine(_mount, "data.bin")));
    }

    private async Task<(Torrent Torrent, byte[] Content, string SeedDir)> CreateSeedAsync()
    {
        string seedDir = Path.Combine(_root, "seed");
        Directory.CreateDirectory(seedDir);
        byte[] content = new byte[3 * 1024 * 1024];
        new Random(11).NextBytes(content);
        await File.WriteAllBytesAsync(Path.Combine(seedDir, "data.bin"), content);
        Torrent torrent = await TorrentCreator.CreateAsync(Path.Combine(seedDir, "data.bin"), new TorrentCreationOptions { PieceLength = 64 * 1024 });
        return (torrent, content, seedDir);
    }

    private async Task RunAsync(Func<TorrentStatus, bool> pausedForTheRightReason, Func<string?> repair)
    {
        (Torrent torrent, byte[] content, string seedDir) = await CreateSeedAsync();

        var options = new SessionOptions { BindAddress = IPAddress.Loopback, ListenPort = 0, EnableDht = false, EnableLocalDiscovery = false };
        await using ShoalSession seeder = await ShoalSession.StartAsync(options);
        await using ShoalSession leecher = await ShoalSession.StartAsync(options);
        await seeder.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = seedDir });
        TorrentHandle handle = await leecher.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = _mount, Peers = [seeder.ListenEndPoint] });

        await WaitUntilAsync(() => handle.GetStatus() is { State: TorrentState.Paused } status && pausedForTheRightReason(status),
            () => $"never paused for the expected reason: {handle.GetStatus()}");
        Assert.False(handle.Completion.IsCompleted);
        int verifiedWhilePaused = handle.GetStatus().VerifiedPieces;

        Assert.Null(repair());
        await handle.Completion.WaitAsync(Patience);
        Assert.Equal(content, await File.ReadAllBytesAsync(Path.Combine(_mount, "data.bin")));
        Assert.True(handle.GetStatus().VerifiedPieces >= verifiedWhilePaused); // nothing verified was lost
    }

    private static Task WaitUntilAsync(Func<bool> condition, Func<string> failure) => Eventually.TrueAsync(condition, Patience, failure);
}
