using System.Net;
using System.Security.Cryptography;
using Shoal.Metainfo;
using Shoal.Swarm;
using Shoal.WebSeeds;

namespace Shoal.Tests.WebSeeds;

/// <summary>
/// Web seeds (BEP 19 'url-list', BEP 17 'httpseeds') end to end: a real session downloads from a real HTTP server on
/// 127.0.0.1 (<see cref="RangeHttpServer"/>), alone or beside peers, and copes with servers that fail, stall, lie or
/// cannot serve ranges.
/// </summary>
public sealed class WebSeedDownloadTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private readonly string _root = Directory.CreateTempSubdirectory("shoal-webseed-").FullName;
    private readonly List<ShoalSession> _sessions = [];
    private readonly List<RangeHttpServer> _servers = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (ShoalSession session in _sessions) await session.DisposeAsync();
        foreach (RangeHttpServer server in _servers) await server.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    /// <summary>Back-off and timeouts short enough for a test; the rules are the defaults'.</summary>
    private static WebSeedOptions FastRetries => new()
    {
        RetryDelay = TimeSpan.FromMilliseconds(100),
        MaxRetryDelay = TimeSpan.FromMilliseconds(400),
        RequestTimeout = TimeSpan.FromSeconds(2),
    };

    [Fact]
    public async Task MultiFileTorrentDownloadsFromOneWebSeedAloneWithRangedGets()
    {
        (Torrent torrent, string content) = await MakeContentAsync("multi file", multiFile: true);
        RangeHttpServer server = await StartServerAsync();
        server.AddFolder("pub/multi file", content);

        TorrentHandle handle = await AddAsync(torrent, "leech", server.UrlOf("pub") + "/");
        await WaitAsync(handle, () => server.ToString());

        AssertSameFiles(content, Path.Combine(_root, "leech", "multi file"));
        Assert.All(server.Log, line => Assert.Contains("bytes=", line, StringComparison.Ordinal));
        // Runs of whole pieces: far fewer requests than pieces, more than the 4 files (runs are bounded).
        Assert.True(server.Requests < torrent.PieceCount, server.ToString());
        WebSeedStatus seed = Assert.Single(handle.GetWebSeeds());
        Assert.Equal(WebSeedState.Connected, seed.State);
        Assert.Equal(torrent.TotalSize, seed.Downloaded);
        TorrentStatus status = handle.GetStatus();
        Assert.Equal(new WebSeedCounts(1, 1, 0, 0), status.WebSeeds);
        Assert.Equal(0, status.FailedPieces);
    }

    [Fact]
    public async Task TwoConnectionsPerServerFetchDifferentRunsAtOnce()
    {
        (Torrent torrent, string content) = await MakeContentAsync("parallel", multiFile: false, size: 6_000_000);
        RangeHttpServer server = await StartServerAsync();
        server.AddFile("parallel", File.ReadAllBytes(content));
        server.BytesPerSecond = 3_000_000; // slow enough that the runs overlap

        TorrentHandle handle = await AddAsync(torrent, "leech", server.UrlOf("parallel"));
        await WaitAsync(handle, () => server.ToString());
        Assert.Equal(File.ReadAllBytes(content), File.ReadAllBytes(Path.Combine(_root, "leech", "parallel")));
        Assert.Equal(new WebSeedOptions().ConnectionsPerServer, server.MaxConcurrentRequests);
    }

    [Fact]
    public async Task AtMostSixteenWebSeedsAreUsedAndOtherSchemesAreIgnored()
    {
        (Torrent torrent, string content) = await MakeContentAsync("many", multiFile: true);
        RangeHttpServer server = await StartServerAsync();
        server.AddFolder("many", content);
        // The query string stays after the file's path: every URL reaches the same server.
        string[] urls = ["ftp://127.0.0.1/", "not a url", .. Enumerable.Range(0, 40).Select(i => $"{server.BaseUrl}?mirror={i}")];

        // The SSRF mitigation would refuse a query string on 127.0.0.1: off here, where the bound is what is tested.
        TorrentHandle handle = await AddAsync(torrent, "leech", urls, ssrfMitigation: false);
        await WaitAsync(handle, () => server.ToString());
        AssertSameFiles(content, Path.Combine(_root, "leech", "many"));
        IReadOnlyList<WebSeedStatus> seeds = handle.GetWebSeeds();
        Assert.Equal(new WebSeedOptions().MaxServersPerTorrent, seeds.Count);
        Assert.All(seeds, s => Assert.StartsWith(server.BaseUrl.ToString(), s.Url, StringComparison.Ordinal));
        Assert.Contains(server.Log, line => line.Contains("?mirror=", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SingleFileTorrentFromTheUrlOfTheFileItself()
    {
        (Torrent torrent, string content) = await MakeContentAsync("data é #1.bin", multiFile: false);
        RangeHttpServer server = await StartServerAsync();
        server.AddFile("files/data é #1.bin", File.ReadAllBytes(content));

        TorrentHandle handle = await AddAsync(torrent, "leech", server.UrlOf("files/data é #1.bin"));
        await WaitAsync(handle, () => server.ToString());
        Assert.Equal(SHA256.HashData(File.ReadAllBytes(content)), SHA256.HashData(File.ReadAllBytes(Path.Combine(_root, "leech", "data é #1.bin"))));
    }

    [Fact]
    public async Task UrlListInTheTorrentFileIsUsed()
    {
        RangeHttpServer server = await StartServerAsync();
        (Torrent plain, string content) = await MakeContentAsync("listed", multiFile: true);
        server.AddFolder("listed", content);
        Torrent torrent = await TorrentCreator.CreateAsync(content, new TorrentCreationOptions { PieceLength = 32 * 1024, WebSeeds = [server.BaseUrl.ToString()] });
        Assert.Equal(plain.InfoHash, torrent.InfoHash);
        Assert.Equal([server.BaseUrl.ToString()], torrent.WebSeeds);

        TorrentHandle handle = await AddAsync(torrent, "leech");
        await WaitAsync(handle, () => server.ToString());
        AssertSameFiles(content, Path.Combine(_root, "leech", "listed"));
    }

    [Fact]
    public async Task HttpSeedBep17ServesPiecesByNumber()
    {
        (Torrent plain, string content) = await MakeContentAsync("bep17", multiFile: true);
        RangeHttpServer server = await StartServerAsync();
        server.ServePieces(StreamOf(plain, content), plain.PieceLength);
        Torrent torrent = WithRootKey(plain, "httpseeds", server.BaseUrl + "seed");
        Assert.Equal([server.BaseUrl + "seed"], torrent.HttpSeeds);

        TorrentHandle handle = await AddAsync(torrent, "leech");
        await WaitAsync(handle, () => server.ToString());
        AssertSameFiles(content, Path.Combine(_root, "leech", "bep17"));
        Assert.Contains(server.Log, line => line.Contains("info_hash=", StringComparison.Ordinal) && line.Contains("piece=", StringComparison.Ordinal));
        Assert.Equal(WebSeedKind.HttpSeed, Assert.Single(handle.GetWebSeeds()).Kind);
    }

    [Fact]
    public async Task WebSeedAndPeersTogetherBothContribute()
    {
        (Torrent torrent, string content) = await MakeContentAsync("together", multiFile: true, size: 3_000_000);
        ShoalSession seeder = await StartSessionAsync(maxUpload: 400_000);
        await seeder.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = Path.GetDirectoryName(content)! });
        RangeHttpServer server = await StartServerAsync();
        server.AddFolder("together", content);
        server.BytesPerSecond = 400_000;

        TorrentHandle handle = await AddAsync(torrent, "leech", server.BaseUrl.ToString(), peers: [seeder.ListenEndPoint]);
        await WaitAsync(handle, () => server.ToString());
        AssertSameFiles(content, Path.Combine(_root, "leech", "together"));
        long fromWebSeed = Assert.Single(handle.GetWebSeeds()).Downloaded;
        Assert.True(fromWebSeed > 0, "nothing came from the web seed");
        Assert.True(fromWebSeed < torrent.TotalSize, "nothing came from the peer");
    }

    [Fact]
    public async Task MagnetLinkWebSeedIsUsedOnceTheMetadataIsKnown()
    {
        (Torrent torrent, string content) = await MakeContentAsync("magnet", multiFile: true, size: 3_000_000);
        // The peer gives the metadata (BEP 9) and little else: the web seed does the work.
        ShoalSession seeder = await StartSessionAsync(maxUpload: 100_000);
        await seeder.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = Path.GetDirectoryName(content)! });
        RangeHttpServer server = await StartServerAsync();
        server.AddFolder("magnet", content);
        var magnet = MagnetLink.Parse($"magnet:?xt=urn:btih:{torrent.InfoHash.ToHex()}&x.pe={seeder.ListenEndPoint}&ws={Uri.EscapeDataString(server.BaseUrl.ToString())}");
        Assert.Equal([server.BaseUrl.ToString()], magnet.WebSeeds);
        Assert.Equal(magnet, MagnetLink.Parse(magnet.ToString()));

        ShoalSession leecher = await StartSessionAsync();
        TorrentHandle handle = await leecher.AddMagnetAsync(magnet, new TorrentOptions { DownloadDirectory = Path.Combine(_root, "leech") });
        await WaitAsync(handle, () => server.ToString());
        AssertSameFiles(content, Path.Combine(_root, "leech", "magnet"));
        Assert.True(Assert.Single(handle.GetWebSeeds()).Downloaded > torrent.TotalSize / 2, Describe(handle));
    }

    [Fact]
    public async Task LyingWebSeedIsDroppedAndTheHonestOneFinishes()
    {
        (Torrent torrent, string content) = await MakeContentAsync("lies", multiFile: true);
        RangeHttpServer liar = await StartServerAsync();
        liar.AddFolder("lies", content);
        liar.Fault = ServerFault.CorruptData;
        RangeHttpServer honest = await StartServerAsync();
        honest.AddFolder("lies", content);

        TorrentHandle handle = await AddAsync(torrent, "leech", [liar.BaseUrl.ToString(), honest.BaseUrl.ToString()]);
        await WaitAsync(handle, () => $"liar: {liar}; honest: {honest}");
        AssertSameFiles(content, Path.Combine(_root, "leech", "lies"));
        WebSeedStatus lying = handle.GetWebSeeds().Single(s => s.Url == liar.BaseUrl.ToString());
        Assert.Equal(WebSeedState.Dropped, lying.State);
        Assert.Contains("failed the hash check", lying.LastError, StringComparison.Ordinal);
        Assert.True(handle.GetStatus().FailedPieces > 0);
        // Dropped means never asked again.
        int asked = liar.Requests;
        await Task.Delay(300);
        Assert.Equal(asked, liar.Requests);
    }

    [Fact]
    public async Task LoneLyingWebSeedIsDroppedAndNothingUnverifiedIsKept()
    {
        (Torrent torrent, string content) = await MakeContentAsync("alone", multiFile: false);
        RangeHttpServer liar = await StartServerAsync();
        liar.AddFile("alone", File.ReadAllBytes(content));
        liar.Fault = ServerFault.CorruptData;

        TorrentHandle handle = await AddAsync(torrent, "leech", liar.UrlOf("alone"));
        await Eventually.TrueAsync(() => handle.GetWebSeeds().SingleOrDefault()?.State == WebSeedState.Dropped, Patience, () => Describe(handle));
        // The status is published at the next tick.
        await Eventually.TrueAsync(() => handle.GetStatus().WebSeeds?.Dropped == 1, Patience, () => Describe(handle));
        TorrentStatus status = handle.GetStatus();
        Assert.Equal(TorrentState.Downloading, status.State);
        Assert.Equal(0, status.VerifiedPieces);
        Assert.Equal(new WebSeedCounts(1, 0, 0, 1), status.WebSeeds);
    }

    [Fact]
    public async Task FailingWebSeedBacksOffAndIsRetriedUntilItServes()
    {
        (Torrent torrent, string content) = await MakeContentAsync("retry", multiFile: true);
        RangeHttpServer server = await StartServerAsync();
        server.AddFolder("retry", content);
        server.FailNext(3); // fewer than MaxFailures: each failure backs off, a success forgives them

        TorrentHandle handle = await AddAsync(torrent, "leech", server.BaseUrl.ToString());
        await WaitAsync(handle, () => server.ToString());
        AssertSameFiles(content, Path.Combine(_root, "leech", "retry"));
        WebSeedStatus seed = Assert.Single(handle.GetWebSeeds());
        Assert.Equal(WebSeedState.Connected, seed.State);
        Assert.Equal(0, seed.Failures);
    }

    [Theory]
    [InlineData(ServerFault.Error, "HTTP 500")]
    [InlineData(ServerFault.ShortBody, "the body ended after")]
    [InlineData(ServerFault.Stall, "stalled")]
    [InlineData(ServerFault.WrongRange, "Content-Range")]
    public async Task BrokenWebSeedFailsWithItsReasonAndPeersFinish(ServerFault fault, string reason)
    {
        (Torrent torrent, string content) = await MakeContentAsync("broken", multiFile: true, size: 3_000_000);
        RangeHttpServer server = await StartServerAsync();
        server.AddFolder("broken", content);
        server.Fault = fault;
        // A seed slow enough that the web seed's failure shows before the end.
        ShoalSession seeder = await StartSessionAsync(maxUpload: 300_000);
        await seeder.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = Path.GetDirectoryName(content)! });

        TorrentHandle handle = await AddAsync(torrent, "leech", server.BaseUrl.ToString(), peers: [seeder.ListenEndPoint]);
        await Eventually.TrueAsync(() => handle.GetWebSeeds().SingleOrDefault()?.State is WebSeedState.Dropped or WebSeedState.Failing, Patience, () => Describe(handle));
        Assert.Contains(reason, handle.GetWebSeeds().Single().LastError, StringComparison.Ordinal);
        await WaitAsync(handle, () => server.ToString());
        AssertSameFiles(content, Path.Combine(_root, "leech", "broken"));
        Assert.Equal(0, handle.GetStatus().FailedPieces);
    }

    [Fact]
    public async Task RepeatedFailuresDropTheServerAfterMaxFailures()
    {
        (Torrent torrent, string content) = await MakeContentAsync("dropped", multiFile: false);
        RangeHttpServer server = await StartServerAsync();
        server.AddFile("dropped", File.ReadAllBytes(content));
        server.Fault = ServerFault.Error;

        TorrentHandle handle = await AddAsync(torrent, "leech", server.UrlOf("dropped"));
        await Eventually.TrueAsync(() => handle.GetWebSeeds().SingleOrDefault()?.State == WebSeedState.Dropped, Patience, () => Describe(handle));
        Assert.Equal(new WebSeedOptions().MaxFailures, server.Requests);
        Assert.Contains("5 failures in a row", handle.GetWebSeeds().Single().LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServerThatIgnoresRangesIsDroppedAtOnce()
    {
        // Big enough that a run ends inside a file: a whole file asked for may come back as a 200, a part may not.
        (Torrent torrent, string content) = await MakeContentAsync("noranges", multiFile: true, size: 3_000_000);
        RangeHttpServer server = await StartServerAsync();
        server.AddFolder("noranges", content);
        server.Fault = ServerFault.IgnoreRanges;

        TorrentHandle handle = await AddAsync(torrent, "leech", server.BaseUrl.ToString());
        await Eventually.TrueAsync(() => handle.GetWebSeeds().SingleOrDefault()?.State == WebSeedState.Dropped, Patience, () => Describe(handle));
        Assert.Contains("byte ranges", handle.GetWebSeeds().Single().LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BusyServerIsNotDroppedAndServesWhenItCan()
    {
        (Torrent torrent, string content) = await MakeContentAsync("busy", multiFile: false);
        RangeHttpServer server = await StartServerAsync();
        server.AddFile("busy", File.ReadAllBytes(content));
        server.Fault = ServerFault.Busy;

        TorrentHandle handle = await AddAsync(torrent, "leech", server.UrlOf("busy"));
        await Eventually.TrueAsync(() => server.Requests >= 2, Patience, () => Describe(handle));
        Assert.Equal(WebSeedState.Failing, handle.GetWebSeeds().Single().State);
        Assert.Equal(0, handle.GetWebSeeds().Single().Failures);
        server.Fault = ServerFault.None;
        await WaitAsync(handle, () => server.ToString());
    }

    [Fact]
    public async Task SlowWebSeedDoesNotHoldUpTheEndWhenAFastSourceIsThere()
    {
        (Torrent torrent, string content) = await MakeContentAsync("slow", multiFile: true);
        RangeHttpServer slow = await StartServerAsync();
        slow.AddFolder("slow", content);
        slow.BytesPerSecond = 20_000; // would take over a minute alone
        RangeHttpServer fast = await StartServerAsync();
        fast.AddFolder("slow", content);

        TorrentHandle handle = await AddAsync(torrent, "leech", [slow.BaseUrl.ToString(), fast.BaseUrl.ToString()]);
        await WaitAsync(handle, () => $"slow: {slow}; fast: {fast}", TimeSpan.FromSeconds(30));
        AssertSameFiles(content, Path.Combine(_root, "leech", "slow"));
    }

    // ---- helpers -------------------------------------------------------------------------------------------------

    private async Task<RangeHttpServer> StartServerAsync()
    {
        RangeHttpServer server = await RangeHttpServer.StartAsync();
        _servers.Add(server);
        return server;
    }

    private async Task<ShoalSession> StartSessionAsync(long maxUpload = 0, bool ssrfMitigation = true)
    {
        ShoalSession session = await ShoalSession.StartAsync(new SessionOptions
        {
            BindAddress = IPAddress.Loopback,
            ListenPort = 0,
            MaxUploadRate = maxUpload,
            EnableLocalDiscovery = false,
            EnableDht = false,
            EnablePortMapping = false,
            WebSeeds = FastRetries,
            SsrfMitigation = ssrfMitigation,
        });
        _sessions.Add(session);
        return session;
    }

    private Task<TorrentHandle> AddAsync(Torrent torrent, string folder, string webSeed, IReadOnlyList<IPEndPoint>? peers = null)
        => AddAsync(torrent, folder, [webSeed], peers);

    private async Task<TorrentHandle> AddAsync(Torrent torrent, string folder, IReadOnlyList<string>? webSeeds = null, IReadOnlyList<IPEndPoint>? peers = null,
        bool ssrfMitigation = true)
    {
        ShoalSession session = await StartSessionAsync(ssrfMitigation: ssrfMitigation);
        return await session.AddTorrentAsync(torrent, new TorrentOptions
        {
            DownloadDirectory = Path.Combine(_root, folder),
            WebSeeds = webSeeds ?? [],
            Peers = peers ?? [],
        });
    }

    private static string Describe(TorrentHandle handle) =>
        $"{handle.GetStatus().Progress:P0}; web seeds: " + string.Join("; ", handle.GetWebSeeds().Select(s => $"{s.Url} {s.State} {s.Downloaded} B, {s.Failures} failures: {s.LastError}"));

    private static async Task WaitAsync(TorrentHandle handle, Func<string> describe, TimeSpan? patience = null)
    {
        Task done = handle.Completion;
        if (await Task.WhenAny(done, Task.Delay(patience ?? Patience)) != done)
        {
            Assert.Fail($"not done: {Describe(handle)}; server: {describe()}");
        }
        await done;
    }

    /// <summary>Random files (several, in a subfolder, sizes not piece-aligned) or one file, and their torrent.</summary>
    private async Task<(Torrent Torrent, string Content)> MakeContentAsync(string name, bool multiFile, int size = 1_000_000)
    {
        string content = Path.Combine(_root, "source", name);
        var random = new Random(name.Length * 31 + size);
        if (multiFile)
        {
            Write(Path.Combine(content, "a.bin"), 10_000, random);
            Write(Path.Combine(content, "b c.bin"), size / 3 + 1, random);
            Write(Path.Combine(content, "sub", "ü#?.bin"), size - size / 3 - 10_001, random);
            Write(Path.Combine(content, "z.bin"), 1, random);
        }
        else
        {
            Write(content, size + 12_345, random);
        }
        return (await TorrentCreator.CreateAsync(content, new TorrentCreationOptions { PieceLength = 32 * 1024 }), content);
    }

    private static void Write(string path, int length, Random random)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        byte[] data = new byte[length];
        random.NextBytes(data);
        File.WriteAllBytes(path, data);
    }

    private static void AssertSameFiles(string expectedFolder, string actualFolder)
    {
        foreach (string file in Directory.EnumerateFiles(expectedFolder, "*", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(expectedFolder, file);
            Assert.True(File.ReadAllBytes(file).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(actualFolder, relative))), relative + " differs");
        }
    }

    /// <summary>The torrent's files back to back, in torrent order (what BEP 17 serves pieces of).</summary>
    private static byte[] StreamOf(Torrent torrent, string content)
    {
        using var stream = new MemoryStream();
        foreach (TorrentFile file in torrent.Files)
        {
            if (file.IsPadding) { stream.Write(new byte[file.Length]); continue; }
            stream.Write(File.ReadAllBytes(Path.Combine([Path.GetDirectoryName(content)!, .. file.PathSegments])));
        }
        return stream.ToArray();
    }

    /// <summary>The same torrent with one more key in its root dictionary (the info dictionary untouched).</summary>
    private static Torrent WithRootKey(Torrent torrent, string key, string url)
    {
        var root = (Shoal.Bencoding.BDictionary)Shoal.Bencoding.Bencode.Decode(torrent.ToBytes());
        root.Set(key, new Shoal.Bencoding.BList([new Shoal.Bencoding.BString(url)]));
        return Torrent.Parse(Shoal.Bencoding.Bencode.Encode(root));
    }
}
