using System.Collections.Concurrent;
using Shoal.Http;
using Shoal.Metainfo;
using Shoal.Swarm;
using Shoal.Tests.Http;
using Shoal.Tests.Swarm;
using Shoal.Tests.WebSeeds;
using Shoal.Trackers;

namespace Shoal.Tests.Trackers;

/// <summary>
/// The SSRF mitigation of HTTP trackers, in a real session over real HTTP on 127.0.0.1: a loopback "tracker" whose path
/// is not an announce path is never contacted, and a redirect from a global tracker into this machine is not followed;
/// the refusal shows in the torrent's tracker list and is logged once.
/// </summary>
public sealed class TrackerSsrfTests : IAsyncLifetime
{
    private static readonly TimeSpan Bounded = TimeSpan.FromSeconds(30);

    private readonly LoopbackSessions _bed = new("shoal-tracker-ssrf-");
    private readonly List<IAsyncDisposable> _servers = [];
    private readonly ConcurrentQueue<string> _log = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        _bed.Dispose(); // its sessions stop, its folder goes
        foreach (IAsyncDisposable server in _servers) await server.DisposeAsync();
    }

    [Fact]
    public async Task ALoopbackTrackerWhosePathIsNotAnAnnouncePathIsNotContacted()
    {
        RecordingHttpTracker rpc = Recording();
        RecordingHttpTracker good = Recording();
        var rpcUrl = new Uri(rpc.AnnounceUrl, "/transmission/rpc");
        (Torrent torrent, string seedDir) = await CreateAsync([rpcUrl], [good.AnnounceUrl]);
        ShoalSession session = await StartAsync();
        TorrentHandle handle = await session.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = seedDir });

        await Eventually.TrueAsync(() => !good.Announces.IsEmpty && Status(handle, rpcUrl)?.LastError is not null, Bounded, () => Describe(handle));
        TrackerStatus refused = Status(handle, rpcUrl)!;
        Assert.False(refused.IsWorking);
        Assert.Contains("SSRF", refused.LastError, StringComparison.Ordinal);
        Assert.Contains("/announce", refused.LastError, StringComparison.Ordinal);
        Assert.Empty(rpc.Announces);

        // Asked again (a reannounce), still refused, still silent: the refusal is logged once.
        DateTimeOffset? first = refused.LastAttempt;
        handle.Reannounce();
        await Eventually.TrueAsync(() => Status(handle, rpcUrl)?.LastAttempt != first, Bounded, () => Describe(handle));
        Assert.Empty(rpc.Announces);
        Assert.Single(_log, line => line.Contains("SSRF", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ALoopbackTrackerAtAnAnnouncePathIsContacted()
    {
        RecordingHttpTracker tracker = Recording();
        var url = new Uri(tracker.AnnounceUrl, "/private/announce?passkey=abc");
        (Torrent torrent, string seedDir) = await CreateAsync([url]);
        ShoalSession session = await StartAsync();
        TorrentHandle handle = await session.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = seedDir });

        await Eventually.TrueAsync(() => !tracker.Announces.IsEmpty, Bounded, () => Describe(handle));
        Assert.Equal("abc", tracker.Snapshot()[0]["passkey"]);
    }

    [Fact]
    public async Task ARedirectFromAGlobalTrackerToLoopbackIsNotFollowed()
    {
        RecordingHttpTracker local = Recording();
        RangeHttpServer global = await RangeHttpServer.StartAsync();
        _servers.Add(global);
        global.RedirectTo = local.AnnounceUrl;
        var url = new Uri(global.BaseUrl, "/announce");
        (Torrent torrent, string seedDir) = await CreateAsync([url]);
        ShoalSession session = await StartAsync(new LoopbackPortsAsGlobal(global.BaseUrl.Port));
        TorrentHandle handle = await session.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = seedDir });

        await Eventually.TrueAsync(() => Status(handle, url)?.LastError is not null, Bounded, () => Describe(handle));
        Assert.Contains("redirected", Status(handle, url)!.LastError, StringComparison.Ordinal);
        Assert.True(global.Requests > 0, "the global tracker was not asked");
        Assert.Empty(local.Announces);
    }

    [Fact]
    public async Task ARedirectBetweenLoopbackTrackersIsFollowed()
    {
        RecordingHttpTracker target = Recording();
        RangeHttpServer mirror = await RangeHttpServer.StartAsync();
        _servers.Add(mirror);
        mirror.RedirectTo = target.AnnounceUrl;
        (Torrent torrent, string seedDir) = await CreateAsync([new Uri(mirror.BaseUrl, "/announce")]);
        ShoalSession session = await StartAsync();
        TorrentHandle handle = await session.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = seedDir });

        await Eventually.TrueAsync(() => !target.Announces.IsEmpty, Bounded, () => Describe(handle));
        Assert.True(mirror.Requests > 0);
    }

    // ---- helpers -------------------------------------------------------------------------------------------------

    private RecordingHttpTracker Recording()
    {
        var tracker = new RecordingHttpTracker();
        _servers.Add(tracker);
        return tracker;
    }

    private async Task<(Torrent Torrent, string SeedDirectory)> CreateAsync(params Uri[][] tiers)
    {
        string seedDir = _bed.Combine("seed");
        Directory.CreateDirectory(seedDir);
        string file = Path.Combine(seedDir, "data.bin");
        byte[] content = new byte[100_000];
        new Random(7).NextBytes(content);
        await File.WriteAllBytesAsync(file, content);
        Torrent torrent = await TorrentCreator.CreateAsync(file, new TorrentCreationOptions
        {
            PieceLength = 32 * 1024,
            AnnounceTiers = [.. tiers.Select(t => (IReadOnlyList<string>)[.. t.Select(u => u.ToString())])],
        });
        return (torrent, seedDir);
    }

    private Task<ShoalSession> StartAsync(IAddressClassifier? classifier = null)
    {
        return _bed.StartAsync(o => o with
        {
            AddressClassifier = classifier ?? AddressClassifier.Standard,
            Log = _log.Enqueue,
        });
    }

    private static TrackerStatus? Status(TorrentHandle handle, Uri url) => handle.GetTrackers().FirstOrDefault(t => t.Url == url);

    private static string Describe(TorrentHandle handle)
        => string.Join("; ", handle.GetTrackers().Select(t => $"{t.Url} working={t.IsWorking} error={t.LastError}"));
}
