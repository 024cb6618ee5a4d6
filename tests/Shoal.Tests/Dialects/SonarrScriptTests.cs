using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Shoal.Tests.Daemon;
using Shoal.Tests.Interop;

namespace Shoal.Tests.Dialects;

/// <summary>
/// The HTTP calls Sonarr's download clients make (Radarr, Lidarr and Readarr are forks with the same clients), in
/// their order, with their bodies and the checks they apply to the answers: test the connection, add a release with a
/// category or folder, set share limits and queue position, poll the list until it is complete, find the files to
/// import, set the post-import category or label, and remove the torrent with its data once its seeding goal stopped
/// it. The release comes from a real peer on 127.0.0.1.
/// </summary>
public sealed class SonarrScriptTests : IAsyncLifetime
{
    private const string Password = "sonarr's secret";
    private readonly TempFolder _folder = new("shoal-sonarr");
    private TestDaemon _daemon = null!;

    public async Task InitializeAsync() => _daemon = await TestDaemon.StartAsync(_folder, o => o with { Password = Password });

    public async Task DisposeAsync()
    {
        await _daemon.DisposeAsync();
        _folder.Dispose();
    }

    [Fact]
    public async Task Sonarrs_Transmission_client_adds_polls_labels_and_removes_with_data()
    {
        await using LoopbackSeed release = await LoopbackSeed.StartAsync(_folder, "Show.S01E01.1080p", 2 << 20, seed: 1602, files: 2);
        string hash = release.Torrent.InfoHash.ToHex();
        // Sonarr's HTTP client answers the Basic challenge with the user's credentials.
        using var http = new HttpClient(new SocketsHttpHandler { Credentials = new NetworkCredential("sonarr", Password), PreAuthenticate = true })
        {
            BaseAddress = new Uri(_daemon.Address, "transmission/rpc"),
        };

        // The session id: Sonarr asks with a plain GET and expects 409 with the header.
        using (HttpResponseMessage hello = await http.GetAsync(""))
        {
            Assert.Equal(HttpStatusCode.Conflict, hello.StatusCode);
            http.DefaultRequestHeaders.Add("X-Transmission-Session-Id", hello.Headers.GetValues("X-Transmission-Session-Id").Single());
        }

        // Test: the version must parse (Sonarr's pattern, 2.40 or later), then the list must come back.
        JsonElement config = await CallAsync(http, "session-get");
        string versionText = Regex.Match(config.GetProperty("version").GetString()!, @"(?<!\(|(\d|\.)+)(\d|\.)+(?!\)|(\d|\.)+)").Value;
        Assert.True(Version.Parse(versionText) >= new Version(2, 40), versionText);
        Assert.True(int.Parse(config.GetProperty("rpc-version").ToString()) >= 14);
        string downloadDir = config.GetProperty("download-dir").GetString()!;
        Assert.Equal(_daemon.Downloads, downloadDir);
        await GetTorrentsAsync(http);

        // Add: the category is a folder under Transmission's download folder (and a label); then the seed goals
        // (ratio 0: seed until the release is complete, as indexers without a ratio rule are set up) and the queue.
        string categoryDir = $"{downloadDir.TrimEnd('/')}/tv-sonarr";
        await CallAsync(http, "torrent-add", new Dictionary<string, object>
        {
            ["metainfo"] = Convert.ToBase64String(release.Torrent.ToBytes()),
            ["paused"] = false,
            ["download-dir"] = categoryDir,
            ["labels"] = new[] { "tv-sonarr" },
        });
        await CallAsync(http, "torrent-set", new Dictionary<string, object>
        {
            ["ids"] = new[] { hash },
            ["seedRatioLimit"] = 0.0,
            ["seedRatioMode"] = 1,
            ["seedIdleLimit"] = 1440,
            ["seedIdleMode"] = 1,
        });
        await CallAsync(http, "queue-move-top", new Dictionary<string, object> { ["ids"] = new[] { hash } });

        // Poll as the queue page does: the item stays "downloading" until complete; the goal then stops it, and a
        // stopped torrent whose ratio reached its limit can be removed.
        JsonElement item = default;
        await Eventually.TrueAsync(() =>
        {
            item = GetTorrentsAsync(http).GetAwaiter().GetResult().Single(t => t.GetProperty("hashString").GetString() == hash);
            Assert.Equal(categoryDir, item.GetProperty("downloadDir").GetString());
            Assert.True(item.GetProperty("errorString").GetString() is "", item.ToString());
            return item.GetProperty("leftUntilDone").GetInt64() == 0 && item.GetProperty("status").GetInt32() == 0;
        }, TimeSpan.FromSeconds(90), () => "never stopped complete: " + item, pollMilliseconds: 500);
        Assert.Equal(2 << 20, item.GetProperty("totalSize").GetInt64());
        Assert.True(item.GetProperty("isFinished").GetBoolean()); // stopped by its goal: finished, in Transmission's words
        Assert.Equal(2, item.GetProperty("fileCount").GetInt32());
        Assert.Equal(0.0, item.GetProperty("seedRatioLimit").GetDouble());
        Assert.Equal(1, item.GetProperty("seedRatioMode").GetInt32());
        Assert.Equal(1440, item.GetProperty("seedIdleLimit").GetInt32());
        Assert.Equal(1, item.GetProperty("seedIdleMode").GetInt32());
        Assert.Equal(2 << 20, item.GetProperty("downloadedEver").GetInt64());
        Assert.True(item.GetProperty("secondsDownloading").GetInt32() >= 0);
        Assert.Equal(-1, item.GetProperty("eta").GetInt64());
        Assert.True(item.GetProperty("uploadedEver").GetInt64() >= 0);
        Assert.Equal(["tv-sonarr"], item.GetProperty("labels").EnumerateArray().Select(l => l.GetString()));

        // Import from downloadDir + name (':' would be '_'), then the post-import label.
        string outputPath = Path.Combine(item.GetProperty("downloadDir").GetString()!, item.GetProperty("name").GetString()!.Replace(":", "_", StringComparison.Ordinal));
        TestContent.AssertSameTree(release.Content, outputPath);
        await CallAsync(http, "torrent-set", new Dictionary<string, object> { ["ids"] = new[] { hash }, ["labels"] = new[] { "tv-imported" } });
        item = (await GetTorrentsAsync(http)).Single();
        Assert.Equal(["tv-imported"], item.GetProperty("labels").EnumerateArray().Select(l => l.GetString()));

        // Remove with its data (Sonarr sends the hash in lower case).
        await CallAsync(http, "torrent-remove", new Dictionary<string, object> { ["ids"] = new[] { hash.ToLowerInvariant() }, ["delete-local-data"] = true });
        await Eventually.TrueAsync(() => !Directory.Exists(outputPath), TimeSpan.FromSeconds(30), "the data was not deleted");
        Assert.Empty(await GetTorrentsAsync(http));
        Assert.Empty(_daemon.Host.Service.List());
    }

    [Fact]
    public async Task Sonarrs_qBittorrent_client_adds_polls_sets_the_category_and_removes_with_data()
    {
        await using LoopbackSeed release = await LoopbackSeed.StartAsync(_folder, "Show.S01E02.1080p", 2 << 20, seed: 1603, files: 2);
        string hash = release.Torrent.InfoHash.ToHex();
        var cookies = new CookieContainer();
        using var http = new HttpClient(new SocketsHttpHandler { CookieContainer = cookies }) { BaseAddress = _daemon.Address };

        // Is the v2 API there? Without a login qBittorrent answers 403, which Sonarr takes as yes.
        using (HttpResponseMessage probe = await http.GetAsync("api/v2/app/webapiVersion"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, probe.StatusCode);
        }
        // Log in with the form; the answer must be exactly "Ok."; the cookie is kept.
        Assert.Equal("Fails.", await PostTextAsync(http, "api/v2/auth/login", ("username", "admin"), ("password", "wrong")));
        Assert.Equal("Ok.", await PostTextAsync(http, "api/v2/auth/login", ("username", "admin"), ("password", Password)));
        Assert.Contains(cookies.GetCookies(_daemon.Address).Cast<Cookie>(), c => c.Name == "SID");

        // Test: API version (parsed by System.Version, 2.0 or later for categories), client version, preferences,
        // the categories (created when missing), the list.
        Version api = Version.Parse(await GetTextAsync(http, "api/v2/app/webapiVersion"));
        Assert.True(api >= new Version(2, 8, 1), api.ToString()); // share limits ride on torrents/add from 2.8.1
        Assert.StartsWith("v", await GetTextAsync(http, "api/v2/app/version"));
        JsonElement preferences = await GetJsonAsync(http, "api/v2/app/preferences");
        Assert.Equal(_daemon.Downloads, preferences.GetProperty("save_path").GetString());
        foreach (string key in new[] { "max_ratio_enabled", "max_seeding_time_enabled", "queueing_enabled", "dht" })
            Assert.True(preferences.GetProperty(key).ValueKind is JsonValueKind.True or JsonValueKind.False, key);
        Assert.Equal(JsonValueKind.Number, preferences.GetProperty("max_ratio").ValueKind);
        Assert.Equal(JsonValueKind.Number, preferences.GetProperty("max_seeding_time").ValueKind);
        Assert.Equal(JsonValueKind.Number, preferences.GetProperty("max_ratio_act").ValueKind);
        JsonElement categories = await GetJsonAsync(http, "api/v2/torrents/categories");
        Assert.False(categories.TryGetProperty("tv-sonarr", out _));
        Assert.Equal("", await PostTextAsync(http, "api/v2/torrents/createCategory", ("category", "tv-sonarr")));
        Assert.Equal("", await PostTextAsync(http, "api/v2/torrents/createCategory", ("category", "tv-imported")));
        categories = await GetJsonAsync(http, "api/v2/torrents/categories");
        Assert.Equal("tv-sonarr", categories.GetProperty("tv-sonarr").GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.Array, (await GetJsonAsync(http, "api/v2/torrents/info?category=tv-sonarr")).ValueKind);

        // Add the .torrent with the category, started, sequential, first and last pieces first, and the share limits
        // (ratio 0: seed until complete); anything but "Fails." is success.
        using (var form = new MultipartFormDataContent())
        {
            var file = new ByteArrayContent(release.Torrent.ToBytes());
            file.Headers.ContentType = new MediaTypeHeaderValue("application/x-bittorrent");
            form.Add(file, "torrents", "Show.S01E02.1080p.torrent");
            foreach ((string key, string value) in new[] { ("category", "tv-sonarr"), ("paused", "false"), ("sequentialDownload", "true"), ("firstLastPiecePrio", "true"), ("ratioLimit", "0"), ("seedingTimeLimit", "1440") })
                form.Add(new StringContent(value), key);
            using HttpResponseMessage added = await http.PostAsync("api/v2/torrents/add", form);
            Assert.Equal(HttpStatusCode.OK, added.StatusCode);
            Assert.NotEqual("Fails.", await added.Content.ReadAsStringAsync());
        }
        // Wait until loaded (properties answers), then the queue's top and force start.
        using (HttpResponseMessage loaded = await http.GetAsync("api/v2/torrents/properties?hash=" + hash.ToLowerInvariant()))
        {
            Assert.Equal(HttpStatusCode.OK, loaded.StatusCode);
        }
        Assert.Equal("", await PostTextAsync(http, "api/v2/torrents/topPrio", ("hashes", hash.ToLowerInvariant())));
        Assert.Equal("", await PostTextAsync(http, "api/v2/torrents/setForceStart", ("hashes", hash.ToLowerInvariant()), ("value", "true")));

        // Poll as the queue page does (version, preferences, the category's torrents) until the goal stops it:
        // "stoppedUP" with the ratio at its limit is what lets Sonarr remove it.
        JsonElement item = default;
        string[] seen = [];
        await Eventually.TrueAsync(() =>
        {
            _ = GetTextAsync(http, "api/v2/app/webapiVersion").GetAwaiter().GetResult();
            _ = GetJsonAsync(http, "api/v2/app/preferences").GetAwaiter().GetResult();
            item = GetJsonAsync(http, "api/v2/torrents/info?category=tv-sonarr").GetAwaiter().GetResult().EnumerateArray().Single();
            string state = item.GetProperty("state").GetString()!;
            seen = [.. seen.Append(state).Distinct()];
            Assert.Contains(state, new[] { "metaDL", "checkingDL", "queuedDL", "downloading", "forcedDL", "stalledDL", "uploading", "forcedUP", "stalledUP", "stoppedUP", "checkingUP" });
            return state == "stoppedUP";
        }, TimeSpan.FromSeconds(90), () => "never stoppedUP: " + item, pollMilliseconds: 500);
        Assert.Equal(hash, item.GetProperty("hash").GetString());
        Assert.Equal("tv-sonarr", item.GetProperty("category").GetString());
        Assert.Equal(2 << 20, item.GetProperty("size").GetInt64());
        Assert.Equal(1.0, item.GetProperty("progress").GetDouble());
        Assert.Equal(8_640_000, item.GetProperty("eta").GetInt64()); // qBittorrent's "no ETA", which Sonarr knows
        Assert.True(item.GetProperty("ratio").GetDouble() >= item.GetProperty("ratio_limit").GetDouble());
        Assert.Equal(0.0, item.GetProperty("ratio_limit").GetDouble());
        Assert.Equal(1440, item.GetProperty("seeding_time_limit").GetInt64());
        Assert.True(item.GetProperty("seq_dl").GetBoolean());
        string savePath = item.GetProperty("save_path").GetString()!;
        string contentPath = item.GetProperty("content_path").GetString()!;
        Assert.Equal(_daemon.Downloads, savePath);
        Assert.NotEqual(savePath, contentPath); // else Sonarr refuses to import ("Path matches client base download directory")

        // Seeding time from the properties (Sonarr's seeding-time check), the files for the import.
        JsonElement properties = await GetJsonAsync(http, "api/v2/torrents/properties?hash=" + hash.ToLowerInvariant());
        Assert.Equal(JsonValueKind.Number, properties.GetProperty("seeding_time").ValueKind);
        Assert.Equal(savePath, properties.GetProperty("save_path").GetString());
        JsonElement files = await GetJsonAsync(http, "api/v2/torrents/files?hash=" + hash.ToLowerInvariant());
        Assert.Equal(2, files.GetArrayLength());
        string first = files[0].GetProperty("name").GetString()!;
        Assert.Equal(Path.Combine(savePath, first.Split('/')[0]), contentPath);
        TestContent.AssertSameTree(release.Content, contentPath);

        // Post-import category, then removal with the files.
        Assert.Equal("", await PostTextAsync(http, "api/v2/torrents/setCategory", ("hashes", hash.ToLowerInvariant()), ("category", "tv-imported")));
        Assert.Empty((await GetJsonAsync(http, "api/v2/torrents/info?category=tv-sonarr")).EnumerateArray());
        Assert.Single((await GetJsonAsync(http, "api/v2/torrents/info?category=tv-imported")).EnumerateArray());
        Assert.Equal("", await PostTextAsync(http, "api/v2/torrents/delete", ("hashes", hash.ToLowerInvariant()), ("deleteFiles", "true")));
        await Eventually.TrueAsync(() => !Directory.Exists(contentPath), TimeSpan.FromSeconds(30), "the files were not deleted");
        Assert.Empty((await GetJsonAsync(http, "api/v2/torrents/info")).EnumerateArray());
    }

    private static async Task<JsonElement> CallAsync(HttpClient http, string method, object? arguments = null)
    {
        var body = new Dictionary<string, object?> { ["method"] = method };
        if (arguments is not null) body["arguments"] = arguments;
        using HttpResponseMessage response = await http.PostAsync("", new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"));
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{method}: {(int)response.StatusCode} {text}");
        JsonElement answer = JsonDocument.Parse(text).RootElement.Clone();
        Assert.True(answer.GetProperty("result").GetString() == "success", $"{method}: {text}");
        return answer.GetProperty("arguments");
    }

    /// <summary>torrent-get with exactly the fields Sonarr asks for.</summary>
    private static async Task<JsonElement[]> GetTorrentsAsync(HttpClient http)
    {
        string[] fields =
        [
            "id", "hashString", "name", "downloadDir", "totalSize", "leftUntilDone", "isFinished", "eta", "status", "secondsDownloading",
            "secondsSeeding", "errorString", "uploadedEver", "downloadedEver", "seedRatioLimit", "seedRatioMode", "seedIdleLimit", "seedIdleMode",
            "fileCount", "labels",
        ];
        JsonElement answer = await CallAsync(http, "torrent-get", new { fields });
        JsonElement[] torrents = [.. answer.GetProperty("torrents").EnumerateArray()];
        foreach (JsonElement t in torrents) Assert.Equal(fields.Order(StringComparer.Ordinal), t.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        return torrents;
    }

    private static async Task<string> GetTextAsync(HttpClient http, string path)
    {
        using HttpResponseMessage response = await http.GetAsync(path);
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {text}");
        return text;
    }

    private static async Task<JsonElement> GetJsonAsync(HttpClient http, string path) => JsonDocument.Parse(await GetTextAsync(http, path)).RootElement.Clone();

    private static async Task<string> PostTextAsync(HttpClient http, string path, params (string Key, string Value)[] form)
    {
        using HttpResponseMessage response = await http.PostAsync(path, new FormUrlEncodedContent(form.Select(p => new KeyValuePair<string, string>(p.Key, p.Value))));
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {text}");
        return text;
    }
}
