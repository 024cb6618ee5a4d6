using System.Net;
using System.Text.Json;
using Shoal.Metainfo;
using Shoal.Tests.Daemon;
using Shoal.Tests.Interop;

namespace Shoal.Tests.Dialects;

/// <summary>
/// One daemon, three APIs: a torrent added through one dialect is seen, paused, organised and removed through the
/// others and the native API, because all of them read and change the same service state.
/// </summary>
public sealed class DialectsShareStateTests : IAsyncLifetime
{
    private readonly TempFolder _folder = new("shoal-dialects-shared");
    private TestDaemon _daemon = null!;
    private TransmissionClient _rpc = null!;
    private QbClient _qb = null!;
    private ApiClient _native = null!;

    public async Task InitializeAsync()
    {
        _daemon = await TestDaemon.StartAsync(_folder);
        _rpc = new TransmissionClient(_daemon.Address);
        _qb = new QbClient(_daemon.Address);
        _native = _daemon.Client();
        Assert.Equal(HttpStatusCode.OK, await _native.FetchCsrfAsync());
    }

    public async Task DisposeAsync()
    {
        _rpc.Dispose();
        _qb.Dispose();
        _native.Dispose();
        await _daemon.DisposeAsync();
        _folder.Dispose();
    }

    [Fact]
    public async Task A_torrent_added_through_one_API_is_seen_paused_organised_and_removed_through_the_others()
    {
        Torrent torrent = await DialectTorrents.TwoFilesAsync(_folder, seed: 1604);
        string hash = torrent.InfoHash.ToHex();

        // Added stopped through Transmission: qBittorrent and the native API see it stopped.
        JsonElement added = await _rpc.OkAsync("torrent-add", new Dictionary<string, object> { ["metainfo"] = Convert.ToBase64String(torrent.ToBytes()), ["paused"] = true });
        long id = added.GetProperty("torrent-added").GetProperty("id").GetInt64();
        Assert.Equal("stoppedDL", (await _qb.TorrentAsync(hash)).GetProperty("state").GetString());
        Assert.Equal("paused", (await _native.TorrentAsync(id)).GetProperty("state").GetString());

        // Started through qBittorrent: no longer stopped for Transmission (status 0) nor for the native API.
        await _qb.OkAsync("torrents/start", ("hashes", hash));
        await Eventually.TrueAsync(() => _rpc.TorrentAsync(hash, "status").GetAwaiter().GetResult().GetProperty("status").GetInt32() != 0,
            TimeSpan.FromSeconds(30), "Transmission still sees it stopped");
        Assert.NotEqual("paused", (await _native.TorrentAsync(id)).GetProperty("state").GetString());

        // Paused through the native API: stopped in both dialects.
        (HttpStatusCode status, _) = await _native.PostAsync("api/v1/torrents/pause", new { ids = new[] { id.ToString(System.Globalization.CultureInfo.InvariantCulture) } });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(0, (await _rpc.TorrentAsync(hash, "status")).GetProperty("status").GetInt32());
        Assert.Equal("stoppedDL", (await _qb.TorrentAsync(hash)).GetProperty("state").GetString());

        // A category made through qBittorrent is the native API's; a tag added natively is a qBittorrent tag and a
        // Transmission label; a label set through Transmission is a tag.
        string films = Path.Combine(_daemon.Downloads, "films");
        await _qb.OkAsync("torrents/createCategory", ("category", "films"), ("savePath", films));
        (status, JsonElement categories) = await _native.GetAsync("api/v1/categories");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains(categories.EnumerateArray(), c => c.GetProperty("name").GetString() == "films" && c.GetProperty("save_path").GetString() == films);
        (status, _) = await _native.PostAsync("api/v1/torrents/category", new { ids = new[] { hash }, category = "films" });
        Assert.Equal(HttpStatusCode.OK, status);
        (status, _) = await _native.PostAsync("api/v1/torrents/tags/add", new { ids = new[] { hash }, tags = new[] { "hd" } });
        Assert.Equal(HttpStatusCode.OK, status);
        JsonElement row = await _qb.TorrentAsync(hash);
        Assert.Equal("films", row.GetProperty("category").GetString());
        Assert.Equal("hd", row.GetProperty("tags").GetString());
        Assert.Equal(["hd"], (await _rpc.TorrentAsync(hash, "labels")).GetProperty("labels").EnumerateArray().Select(l => l.GetString()));
        await _rpc.OkAsync("torrent-set", new Dictionary<string, object> { ["ids"] = new[] { hash }, ["labels"] = new[] { "hd", "remux" } });
        Assert.Equal("hd, remux", (await _qb.TorrentAsync(hash)).GetProperty("tags").GetString());
        Assert.Equal(["hd", "remux"], (await _native.TorrentAsync(id)).GetProperty("tags").EnumerateArray().Select(t => t.GetString()));

        // Removed through qBittorrent: gone for Transmission and the native API.
        await _qb.OkAsync("torrents/delete", ("hashes", hash), ("deleteFiles", "false"));
        Assert.Equal(0, (await _rpc.OkAsync("torrent-get", new { fields = new[] { "id" } })).GetProperty("torrents").GetArrayLength());
        Assert.Equal(HttpStatusCode.NotFound, (await _native.GetAsync($"api/v1/torrents/{id}")).Status);

        // And the other way: added through the native API, removed through Transmission.
        (status, JsonElement nativeAdd) = await _native.AddAsync(torrent.ToBytes(), new { paused = true });
        Assert.Equal(HttpStatusCode.OK, status);
        long again = nativeAdd.GetProperty("added")[0].GetProperty("id").GetInt64();
        Assert.Equal(hash, (await _qb.TorrentAsync(hash)).GetProperty("hash").GetString());
        await _rpc.OkAsync("torrent-remove", new Dictionary<string, object> { ["ids"] = new[] { again } });
        Assert.Empty((await _qb.JsonAsync("torrents/info")).EnumerateArray());
    }

    [Fact]
    public async Task A_stop_right_after_a_start_is_seen_at_once_in_every_dialect()
    {
        Torrent torrent = await DialectTorrents.TwoFilesAsync(_folder, seed: 1605);
        string hash = torrent.InfoHash.ToHex();
        await _rpc.OkAsync("torrent-add", new Dictionary<string, object> { ["metainfo"] = Convert.ToBase64String(torrent.ToBytes()), ["paused"] = true });
        for (int i = 0; i < 3; i++)
        {
            // The start is still under way in the engine when the stop arrives; the stop is what every reader sees.
            await _rpc.OkAsync("torrent-start", new { ids = new[] { hash } });
            await _rpc.OkAsync("torrent-stop", new { ids = new[] { hash } });
            Assert.Equal(0, (await _rpc.TorrentAsync(hash, "status")).GetProperty("status").GetInt32());
            Assert.Equal("stoppedDL", (await _qb.TorrentAsync(hash)).GetProperty("state").GetString());
        }
    }
}
