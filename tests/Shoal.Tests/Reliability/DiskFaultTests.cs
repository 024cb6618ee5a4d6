using System.Net;
using Shoal.Metainfo;
using Shoal.Swarm;

namespace Shoal.Tests.Reliability;

/// <summary>A download folder that fills up, or turns read-only, pauses the torrent; it resumes once writing works again.</summary>
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
    public async Task AReadOnlyFolderPausesTheDownloadAndItResumesWhenWritable()
    {
        Assert.Null(Tmpfs.Run("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", _mount));
        Assert.Null(Tmpfs.Run("mount", "-o", "remount,ro", _mount));
        await RunAsync(
            status => status.Error is { } error && error.Contains("read-only", StringComparison.OrdinalIgnoreCase),
            () => Tmpfs.Run("mount", "-o", "remount,rw", _mount));
    }

    private async Task RunAsync(Func<TorrentStatus, bool> pausedForTheRightReason, Func<string?> repair)
    {
        string seedDir = Path.Combine(_root, "seed");
        Directory.CreateDirectory(seedDir);
        byte[] content = new byte[3 * 1024 * 1024];
        new Random(11).NextBytes(content);
        await File.WriteAllBytesAsync(Path.Combine(seedDir, "data.bin"), content);
        Torrent torrent = await TorrentCreator.CreateAsync(Path.Combine(seedDir, "data.bin"), new TorrentCreationOptions { PieceLength = 64 * 1024 });

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
