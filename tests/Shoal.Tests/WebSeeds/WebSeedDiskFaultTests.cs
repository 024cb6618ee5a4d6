using System.Net;
using Shoal.Metainfo;
using Shoal.Swarm;
using Shoal.Tests.Reliability;
using Shoal.WebSeeds;

namespace Shoal.Tests.WebSeeds;

/// <summary>
/// A full disk pauses a download that comes from a web seed alone; once space returns it finishes. Blocks the web
/// seed sends during the pause go back to the picker, so none is left held by a run that is over.
/// </summary>
[Collection(ReliabilityCollection.Name)]
public sealed class WebSeedDiskFaultTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly string _root = Directory.CreateTempSubdirectory("shoal-webseed-disk-").FullName;
    private string _mount = "";
    private RangeHttpServer _server = null!;

    public async Task InitializeAsync()
    {
        _mount = Path.Combine(_root, "small-disk");
        Directory.CreateDirectory(_mount);
        _server = await RangeHttpServer.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Tmpfs.Run("umount", _mount);
        Directory.Delete(_root, recursive: true);
    }

    [TmpfsFact]
    public async Task AFullDiskPausesAWebSeedDownloadAndItFinishesWhenSpaceReturns()
    {
        Assert.Null(Tmpfs.Run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", _mount));
        byte[] content = new byte[3 * 1024 * 1024];
        new Random(12).NextBytes(content);
        string source = Path.Combine(_root, "data.bin");
        await File.WriteAllBytesAsync(source, content);
        Torrent torrent = await TorrentCreator.CreateAsync(source, new TorrentCreationOptions { PieceLength = 64 * 1024 });
        _server.AddFile("data.bin", content);
        // Slow enough that blocks are still arriving when the disk fills; one connection, so a block left held by its
        // run could never be asked of the server again.
        _server.BytesPerSecond = 2_000_000;

        await using ShoalSession session = await ShoalSession.StartAsync(new SessionOptions
        {
            BindAddress = IPAddress.Loopback,
            ListenPort = 0,
            EnableDht = false,
            EnableLocalDiscovery = false,
            EnablePortMapping = false,
            WebSeeds = new WebSeedOptions { ConnectionsPerServer = 1, RetryDelay = TimeSpan.FromMilliseconds(100) },
        });
        TorrentHandle handle = await session.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = _mount, WebSeeds = [_server.UrlOf("data.bin")] });

        await Eventually.TrueAsync(() => handle.GetStatus() is { State: TorrentState.Paused, Error: { } error } && error.Contains("full", StringComparison.OrdinalIgnoreCase),
            Patience, () => $"never paused for a full disk: {handle.GetStatus()}");
        Assert.Null(Tmpfs.Run("mount", "-o", "remount,size=16m", _mount));
        Task done = handle.Completion;
        Assert.True(await Task.WhenAny(done, Task.Delay(Patience)) == done,
            $"not finished after space returned: {handle.GetStatus().Progress:P0}, {handle.GetStatus().State}; {_server}");
        await done;
        Assert.Equal(content, await File.ReadAllBytesAsync(Path.Combine(_mount, "data.bin")));
    }
}
