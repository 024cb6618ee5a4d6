using System.Text.Json;
using Shoal.Cli;
using Shoal.Cli.Reporting;
using Shoal.Metainfo;
using Shoal.Swarm;
using Shoal.WebSeeds;

namespace Shoal.Tests.WebSeeds;

/// <summary>Web seeds on the command line: <c>create --web-seed</c>, <c>info</c>, <c>get</c> from a web seed alone, the status line and --json.</summary>
public sealed class WebSeedCliTests : IAsyncLifetime
{
    private readonly string _root = Directory.CreateTempSubdirectory("shoal-webseed-cli-").FullName;
    private RangeHttpServer _server = null!;

    public async Task InitializeAsync() => _server = await RangeHttpServer.StartAsync();

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    private static async Task<(int Code, string Out, string Err)> RunAsync(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = await Program.RunAsync(args, TextWriter.Synchronized(stdout), TextWriter.Synchronized(stderr), CancellationToken.None);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public async Task CreateWithWebSeedThenGetFromTheWebSeedAlone()
    {
        string content = Path.Combine(_root, "src", "album");
        Directory.CreateDirectory(Path.Combine(content, "disc 1"));
        var random = new Random(5);
        byte[] a = new byte[700_000], b = new byte[123_457];
        random.NextBytes(a);
        random.NextBytes(b);
        File.WriteAllBytes(Path.Combine(content, "disc 1", "track 1.flac"), a);
        File.WriteAllBytes(Path.Combine(content, "cover.jpg"), b);
        _server.AddFolder("mirror/album", content);
        string seedUrl = _server.BaseUrl + "mirror/";
        string torrentPath = Path.Combine(_root, "album.torrent");

        (int code, _, string err) = await RunAsync("create", content, "-o", torrentPath, "--web-seed", seedUrl, "--piece-size", "32KiB");
        Assert.True(code == 0, err);
        Assert.Equal([seedUrl], Torrent.Load(torrentPath).WebSeeds);

        (code, string info, _) = await RunAsync("info", torrentPath);
        Assert.Equal(0, code);
        Assert.Contains(seedUrl, info, StringComparison.Ordinal);

        string target = Path.Combine(_root, "out");
        (code, string json, err) = await RunAsync("get", torrentPath, "-o", target, "--exit-when-done", "--json", "--port", "0", "--bind", "127.0.0.1",
            "--no-dht", "--no-lsd", "--no-port-mapping");
        Assert.True(code == 0, err);
        Assert.Equal(a, File.ReadAllBytes(Path.Combine(target, "album", "disc 1", "track 1.flac")));
        Assert.Equal(b, File.ReadAllBytes(Path.Combine(target, "album", "cover.jpg")));
        Assert.True(_server.Requests > 0);
        string last = json.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1];
        using JsonDocument doc = JsonDocument.Parse(last);
        Assert.Equal(1, doc.RootElement.GetProperty("web_seeds").GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task GivingUpOnADeadWebSeedSaysWhichAndWhy()
    {
        string file = Path.Combine(_root, "src", "lonely.bin");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        File.WriteAllBytes(file, new byte[100_000]);
        string torrentPath = Path.Combine(_root, "lonely.torrent");
        string deadUrl = _server.BaseUrl + "gone/lonely.bin"; // the server answers 404
        (int code, _, string err) = await RunAsync("create", file, "-o", torrentPath, "--web-seed", deadUrl);
        Assert.True(code == 0, err);

        (code, _, err) = await RunAsync("get", torrentPath, "-o", Path.Combine(_root, "out"), "--exit-when-done", "--stop-after-idle", "2s", "--quiet",
            "--port", "0", "--bind", "127.0.0.1", "--no-dht", "--no-lsd", "--no-port-mapping");
        Assert.Equal(ExitCodes.Failure, code);
        Assert.Contains($"web seed {deadUrl}: HTTP 404", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WebSeedOptionRefusesOtherSchemes()
    {
        (int code, _, string err) = await RunAsync("get", Path.Combine(_root, "x.torrent"), "--web-seed", "ftp://example/");
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("--web-seed: 'ftp://example/' is not an http:// or https:// URL", err, StringComparison.Ordinal);
    }

    private static TorrentStatus Downloading(WebSeedCounts? webSeeds) => new(
        TorrentState.Downloading, Progress: 0.25, TotalSize: 4_000_000, VerifiedBytes: 1_000_000, Downloaded: 1_100_000, Uploaded: 0,
        DownloadRate: 1000, UploadRate: 0, Peers: 0, Seeds: 0, VerifiedPieces: 4, PieceCount: 16, FailedPieces: 0, Error: null)
    {
        WebSeeds = webSeeds,
    };

    [Fact]
    public void StatusLineAndJsonShowTheWebSeeds()
    {
        TorrentStatus status = Downloading(new WebSeedCounts(2, 1, 1, 0));
        Assert.Contains("0 peers + 1/2 web seeds", StatusText.Summary(status, arrows: false), StringComparison.Ordinal);
        using JsonDocument doc = JsonDocument.Parse(StatusJson.Format(status));
        JsonElement seeds = doc.RootElement.GetProperty("web_seeds");
        Assert.Equal(2, seeds.GetProperty("total").GetInt32());
        Assert.Equal(1, seeds.GetProperty("connected").GetInt32());
        Assert.Equal(1, seeds.GetProperty("failing").GetInt32());
        Assert.Equal(0, seeds.GetProperty("dropped").GetInt32());
        // Without web seeds, neither says anything of them.
        Assert.DoesNotContain("web seed", StatusText.Summary(Downloading(null), arrows: false), StringComparison.Ordinal);
        Assert.False(JsonDocument.Parse(StatusJson.Format(Downloading(null))).RootElement.TryGetProperty("web_seeds", out _));
    }

    [Fact]
    public void NoPeerIsNoProblemWhileAWebSeedServes()
    {
        Assert.Null(StatusText.Problem(Downloading(new WebSeedCounts(1, 1, 0, 0)), [], PeerSources.All));
        string? problem = StatusText.Problem(Downloading(new WebSeedCounts(1, 0, 0, 1)), [], PeerSources.All);
        Assert.Contains("web seeds: 0/1 connected, 1 dropped", problem, StringComparison.Ordinal);
        // With the web seeds' snapshot: which one, and why (escaped: the URL and the reason come from outside).
        WebSeedStatus dropped = new("http://mirror.example/\u001b[2J", WebSeedKind.UrlList, WebSeedState.Dropped, 0, 0, 0, 5, "5 failures in a row, the last: HTTP 404 Not Found");
        problem = StatusText.Problem(Downloading(new WebSeedCounts(1, 0, 0, 1)), [], PeerSources.All, [dropped]);
        Assert.Contains("web seed http://mirror.example/", problem, StringComparison.Ordinal);
        Assert.Contains(": 5 failures in a row, the last: HTTP 404 Not Found", problem, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', problem!);
    }
}
