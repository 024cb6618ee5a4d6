using System.Collections.Concurrent;
using System.Net;
using Shoal.Http;
using Shoal.Metainfo;
using Shoal.Swarm;
using Shoal.Tests.Http;
using Shoal.Tests.Swarm;
using Shoal.WebSeeds;

namespace Shoal.Tests.WebSeeds;

/// <summary>
/// The SSRF mitigation of web seeds over real HTTP on 127.0.0.1: a torrent cannot make the session query a local
/// service (a query string on a loopback server, a redirect from the internet into this machine), while a plain file
/// server on loopback still serves. "The internet" is a loopback server the session's address classifier is told to
/// class as global (<see cref="LoopbackPortsAsGlobal"/>).
/// </summary>
public sealed class WebSeedSsrfTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly LoopbackSessions _bed = new("shoal-webseed-ssrf-");
    private readonly List<RangeHttpServer> _servers = [];
    private readonly ConcurrentQueue<string> _log = new();
    private byte[] _content = [];
    private Torrent _torrent = null!;

    public async Task InitializeAsync()
    {
        _content = new byte[300_000];
        new Random(19).NextBytes(_content);
        string file = _bed.Combine("source", "x");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        await File.WriteAllBytesAsync(file, _content);
        _torrent = await TorrentCreator.CreateAsync(file, new TorrentCreationOptions { PieceLength = 32 * 1024 });
    }

    public async Task DisposeAsync()
    {
        _bed.Dispose(); // its sessions stop, its folder goes
        foreach (RangeHttpServer server in _servers) await server.DisposeAsync();
    }

    [Fact]
    public async Task AWebSeedOnLoopbackWithAQueryStringNeverReachesTheServer()
    {
        RangeHttpServer server = await StartServerAsync();
        string url = server.UrlOf("x") + "?y=1";

        TorrentHandle handle = await AddAsync(await StartSessionAsync(), url);
        WebSeedStatus seed = await DroppedAsync(handle);
        Assert.Contains("SSRF", seed.LastError, StringComparison.Ordinal);
        Assert.Contains("query string", seed.LastError, StringComparison.Ordinal);
        Assert.Equal(0, server.Requests);
        Assert.Equal(0, handle.GetStatus().VerifiedBytes);
        // Said once, with the URL and why.
        Assert.Single(_log, line => line.Contains("SSRF", StringComparison.Ordinal) && line.Contains(url, StringComparison.Ordinal));
    }

    [Fact]
    public async Task AHostNameThatResolvesToLoopbackIsJudgedByItsAddress()
    {
        RangeHttpServer server = await StartServerAsync();
        string url = $"http://localhost:{server.BaseUrl.Port}/x?y=1";

        TorrentHandle handle = await AddAsync(await StartSessionAsync(), url);
        WebSeedStatus seed = await DroppedAsync(handle);
        Assert.Contains("query string", seed.LastError, StringComparison.Ordinal);
        Assert.Equal(0, server.Requests);
    }

    [Fact]
    public async Task AWebSeedOnLoopbackWithoutAQueryStringDownloads()
    {
        RangeHttpServer server = await StartServerAsync();
        TorrentHandle handle = await AddAsync(await StartSessionAsync(), server.UrlOf("x"));
        await CompletesAsync(handle, server);
        Assert.Equal(_content, await File.ReadAllBytesAsync(_bed.Combine("leech", "x")));
    }

    [Fact]
    public async Task WithTheMitigationTurnedOffAtRunTimeTheQueryStringSeedIsUsed()
    {
        RangeHttpServer server = await StartServerAsync();
        ShoalSession session = await StartSessionAsync();
        Assert.True(session.SsrfMitigation);
        session.SetSsrfMitigation(false);
        Assert.False(session.SsrfMitigation);

        TorrentHandle handle = await AddAsync(session, server.UrlOf("x") + "?y=1");
        await CompletesAsync(handle, server);
        Assert.Contains(server.Log, line => line.Contains("?y=1", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ARedirectFromAGlobalServerToLoopbackIsRefused()
    {
        RangeHttpServer local = await StartServerAsync();
        RangeHttpServer global = await StartServerAsync(serve: false);
        global.RedirectTo = local.BaseUrl;

        TorrentHandle handle = await AddAsync(await StartSessionAsync(new LoopbackPortsAsGlobal(global.BaseUrl.Port)), global.UrlOf("x"));
        WebSeedStatus seed = await DroppedAsync(handle);
        Assert.Contains("redirected", seed.LastError, StringComparison.Ordinal);
        Assert.True(global.Requests > 0, "the global server was not asked");
        Assert.Equal(0, local.Requests);
    }

    [Fact]
    public async Task ARedirectBetweenLoopbackServersIsFollowed()
    {
        RangeHttpServer target = await StartServerAsync();
        RangeHttpServer mirror = await StartServerAsync(serve: false);
        mirror.RedirectTo = target.BaseUrl;

        TorrentHandle handle = await AddAsync(await StartSessionAsync(), mirror.UrlOf("x"));
        await CompletesAsync(handle, target);
        Assert.True(mirror.Requests > 0);
        Assert.True(target.Requests > 0);
    }

    [Fact]
    public async Task AnAddressThatTurnsLocalBetweenTheCheckAndTheConnectionIsNotConnectedTo()
    {
        // DNS rebinding, played by the classifier: the host is global when the URL is checked, loopback when connecting.
        RangeHttpServer server = await StartServerAsync();
        TorrentHandle handle = await AddAsync(await StartSessionAsync(new GlobalOnce(server.BaseUrl.Port)), server.UrlOf("x") + "?y=1");
        WebSeedStatus seed = await DroppedAsync(handle);
        Assert.Contains("SSRF", seed.LastError, StringComparison.Ordinal);
        Assert.Equal(0, server.Requests);
    }

    /// <summary>Global at the first look at the port, loopback afterwards.</summary>
    private sealed class GlobalOnce(int port) : IAddressClassifier
    {
        private int _looks;

        public AddressScope Classify(IPEndPoint endPoint)
            => endPoint.Port == port && Interlocked.Increment(ref _looks) == 1 ? AddressScope.Global : AddressClassifier.Standard.Classify(endPoint);
    }

    // ---- helpers -------------------------------------------------------------------------------------------------

    private async Task<RangeHttpServer> StartServerAsync(bool serve = true)
    {
        RangeHttpServer server = await RangeHttpServer.StartAsync();
        if (serve) server.AddFile("x", _content);
        _servers.Add(server);
        return server;
    }

    private Task<ShoalSession> StartSessionAsync(IAddressClassifier? classifier = null)
    {
        return _bed.StartAsync(o => o with
        {
            WebSeeds = new WebSeedOptions
            {
                RetryDelay = TimeSpan.FromMilliseconds(100),
                MaxRetryDelay = TimeSpan.FromMilliseconds(400),
                RequestTimeout = TimeSpan.FromSeconds(2),
            },
            AddressClassifier = classifier ?? AddressClassifier.Standard,
            Log = _log.Enqueue,
        });
    }

    private Task<TorrentHandle> AddAsync(ShoalSession session, string webSeed)
        => session.AddTorrentAsync(_torrent, new TorrentOptions { DownloadDirectory = _bed.Combine("leech"), WebSeeds = [webSeed] });

    private static async Task<WebSeedStatus> DroppedAsync(TorrentHandle handle)
    {
        await Eventually.TrueAsync(() => handle.GetWebSeeds() is [{ State: WebSeedState.Dropped }], Patience, () => Describe(handle));
        return Assert.Single(handle.GetWebSeeds());
    }

    private static async Task CompletesAsync(TorrentHandle handle, RangeHttpServer server)
    {
        Task done = handle.Completion;
        if (await Task.WhenAny(done, Task.Delay(Patience)) != done) Assert.Fail($"not done: {Describe(handle)}; server: {server}");
        await done;
    }

    private static string Describe(TorrentHandle handle) =>
        $"{handle.GetStatus().Progress:P0}; web seeds: " + string.Join("; ", handle.GetWebSeeds().Select(s => $"{s.Url} {s.State} {s.Failures} failures: {s.LastError}"));
}
