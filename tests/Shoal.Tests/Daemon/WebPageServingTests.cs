using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Shoal.Daemon.Web;
using Shoal.Metainfo;
using Shoal.Tests.Interop;

namespace Shoal.Tests.Daemon;

/// <summary>
/// How the daemon serves its web page (caching, compression, the Content-Security-Policy, the login page without a
/// login) and the API the page added: the rate history and the piece map.
/// </summary>
public sealed partial class WebPageServingTests() : DaemonApiTests("shoal-web-serving")
{
    [Fact]
    public async Task The_page_is_revalidated_its_assets_are_immutable_compressed_and_under_a_strict_policy()
    {
        HttpClient http = Api.Http;
        using HttpResponseMessage page = await http.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType!.MediaType);
        Assert.True(page.Headers.CacheControl!.NoCache);
        string csp = page.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("default-src 'none'", csp, StringComparison.Ordinal);
        Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe", csp, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.Equal("nosniff", page.Headers.GetValues("X-Content-Type-Options").Single());
        string html = await page.Content.ReadAsStringAsync();
        Match main = ScriptPath().Match(html);
        Assert.True(main.Success, "the page names no versioned main.js");
        Assert.DoesNotContain("<script>", html, StringComparison.Ordinal); // no inline script: the policy would refuse it

        using HttpResponseMessage script = await http.GetAsync(main.Groups[1].Value);
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.Equal("text/javascript", script.Content.Headers.ContentType!.MediaType);
        Assert.True(script.Headers.CacheControl!.Public);
        Assert.Equal(TimeSpan.FromDays(365), script.Headers.CacheControl.MaxAge);
        Assert.Contains("immutable", script.Headers.CacheControl.ToString(), StringComparison.Ordinal);
        byte[] plain = await script.Content.ReadAsByteArrayAsync();

        using var conditional = new HttpRequestMessage(HttpMethod.Get, main.Groups[1].Value);
        conditional.Headers.IfNoneMatch.Add(script.Headers.ETag!);
        using HttpResponseMessage notModified = await http.SendAsync(conditional);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);

        using var compressed = new HttpRequestMessage(HttpMethod.Get, main.Groups[1].Value);
        compressed.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("br"));
        using HttpResponseMessage brotli = await http.SendAsync(compressed);
        Assert.Equal("br", brotli.Content.Headers.ContentEncoding.Single());
        using (var decoder = new BrotliStream(await brotli.Content.ReadAsStreamAsync(), CompressionMode.Decompress))
        using (var decoded = new MemoryStream())
        {
            await decoder.CopyToAsync(decoded);
            Assert.Equal(plain, decoded.ToArray());
            Assert.True(brotli.Content.Headers.ContentLength < plain.Length);
        }

        // An asset asked for under another build's version is served but not kept; an unknown one is 404.
        using HttpResponseMessage stale = await http.GetAsync("/ui/000000000000/js/main.js");
        Assert.Equal(HttpStatusCode.OK, stale.StatusCode);
        Assert.True(stale.Headers.CacheControl!.NoCache);
        using HttpResponseMessage missing = await http.GetAsync(main.Groups[1].Value.Replace("main.js", "nothing.js", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public void Every_module_the_page_imports_is_embedded_and_nothing_comes_from_another_host()
    {
        WebAssets assets = WebAssets.Load();
        var modules = assets.Names.Where(n => n.EndsWith(".js", StringComparison.Ordinal)).ToList();
        Assert.Contains("js/main.js", modules);
        var reached = new HashSet<string>(StringComparer.Ordinal) { "js/main.js" };
        var queue = new Queue<string>(reached);
        while (queue.Count > 0)
        {
            string module = queue.Dequeue();
            string source = Encoding.UTF8.GetString(assets.Find(module)!.Bytes);
            foreach (Match import in ImportPath().Matches(source))
            {
                string target = Path.GetRelativePath(".", Path.Combine(Path.GetDirectoryName(module)!, import.Groups[1].Value)).Replace('\\', '/');
                Assert.True(assets.Find(target) is not null, $"{module} imports {target}, which is not embedded");
                if (reached.Add(target)) queue.Enqueue(target);
            }
        }
        Assert.Equal(modules.Order(), reached.Order()); // no module left unused
        foreach (string name in assets.Names.Append(WebAssets.PageName))
        {
            string text = Encoding.UTF8.GetString(name == WebAssets.PageName ? assets.Page.Bytes : assets.Find(name)!.Bytes);
            foreach (Match url in ExternalUrl().Matches(text))
                Assert.Fail($"{name} names {url.Value}: the page must work offline, from the daemon alone");
        }
    }

    [Fact]
    public async Task With_a_password_the_page_loads_for_its_login_form_while_the_api_asks_for_the_login()
    {
        using var folder = new TempFolder("shoal-web-login");
        await using TestDaemon daemon = await TestDaemon.StartAsync(folder, o => o with { Password = "a long password" });
        using ApiClient client = daemon.Client();
        using HttpResponseMessage page = await client.Http.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("id=\"login\"", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("api/v1/torrents")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("api/v1/stats/history")).Status);
    }

    [Fact]
    public async Task The_rate_history_holds_one_sample_a_second()
    {
        await Task.Delay(2500);
        (HttpStatusCode status, JsonElement body) = await Api.GetAsync("api/v1/stats/history");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(1, body.GetProperty("interval_seconds").GetInt32());
        int down = body.GetProperty("down").GetArrayLength();
        Assert.InRange(down, 1, Shoal.Daemon.Service.RateHistory.Capacity);
        Assert.Equal(down, body.GetProperty("up").GetArrayLength());
        Assert.True(DateTimeOffset.UtcNow - body.GetProperty("end").GetDateTimeOffset() < TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void The_rate_history_keeps_the_newest_samples_in_order()
    {
        var history = new Shoal.Daemon.Service.RateHistory();
        var start = DateTimeOffset.UnixEpoch;
        for (int i = 0; i < Shoal.Daemon.Service.RateHistory.Capacity + 25; i++) history.Record(start.AddSeconds(i), i, 2 * i);
        var view = history.Snapshot();
        Assert.Equal(Shoal.Daemon.Service.RateHistory.Capacity, view.Down.Count);
        Assert.Equal(25, view.Down[0]);
        Assert.Equal(Shoal.Daemon.Service.RateHistory.Capacity + 24, view.Down[^1]);
        Assert.Equal(2 * view.Down[^1], view.Up[^1]);
        Assert.Equal(start.AddSeconds(Shoal.Daemon.Service.RateHistory.Capacity + 24), view.End);
    }

    [Fact]
    public async Task The_piece_map_of_a_torrent_while_it_downloads_once_complete_and_without_data()
    {
        // Without data and paused: no piece.
        (Torrent nothing, _) = await TestDaemon.MakeTorrentAsync(Folder, "nothing.bin", 100_000, seed: 31);
        long idle = await DaemonApi.AddAsync(Api, nothing.ToBytes(), new { paused = true });
        JsonElement map = await PiecesAsync(idle);
        Assert.Equal(nothing.PieceCount, map.GetProperty("piece_count").GetInt32());
        Assert.Equal(0, map.GetProperty("have_count").GetInt32());
        Assert.All(Convert.FromBase64String(map.GetProperty("have").GetString()!), b => Assert.Equal(0, b));

        // Downloading from a slow seed: the running torrent's actor answers, with pieces verified and some in flight.
        await using LoopbackSeed seed = await LoopbackSeed.StartAsync(Folder, "slow.bin", 2 << 20, seed: 32, uploadRate: 256 * 1024);
        long id = await DaemonApi.AddAsync(Api, seed.Torrent.ToBytes());
        DateTime deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await Api.TorrentAsync(id)).GetProperty("progress").GetDouble() <= 0.1)
        {
            Assert.True(DateTime.UtcNow < deadline, "the download never started");
            await Task.Delay(100);
        }
        map = await PiecesAsync(id);
        JsonElement row = await Api.TorrentAsync(id);
        if (row.GetProperty("progress").GetDouble() < 1)
        {
            Assert.Equal("engine", map.GetProperty("source").GetString());
            Assert.InRange(map.GetProperty("have_count").GetInt32(), 1, seed.Torrent.PieceCount - 1);
            Assert.Equal(map.GetProperty("have_count").GetInt32(), PopCount(map));
        }

        // Complete: every piece, and the spare bits of the last byte clear.
        await DaemonApi.WaitForStateAsync(Api, id, "seeding");
        map = await PiecesAsync(id);
        Assert.Equal(seed.Torrent.PieceCount, map.GetProperty("have_count").GetInt32());
        Assert.Equal(seed.Torrent.PieceCount, PopCount(map));
        Assert.Equal(0, map.GetProperty("downloading").GetArrayLength());

        Assert.Equal(HttpStatusCode.NotFound, (await Api.GetAsync("api/v1/torrents/999999/pieces")).Status);
    }

    private async Task<JsonElement> PiecesAsync(long id)
    {
        (HttpStatusCode status, JsonElement body) = await Api.GetAsync($"api/v1/torrents/{id}/pieces");
        Assert.Equal(HttpStatusCode.OK, status);
        return body;
    }

    private static int PopCount(JsonElement map)
        => Convert.FromBase64String(map.GetProperty("have").GetString()!).Sum(b => System.Numerics.BitOperations.PopCount(b));

    [GeneratedRegex("src=\"(/ui/[0-9a-f]{12}/js/main\\.js)\"")]
    private static partial Regex ScriptPath();

    [GeneratedRegex("(?:from|import)\\s*\\(?\\s*'(\\./[^']+)'")]
    private static partial Regex ImportPath();

    [GeneratedRegex("https?://(?!www\\.w3\\.org/2000/svg)[^\\s'\"`)]+")]
    private static partial Regex ExternalUrl();
}
