using System.Net;
using System.Text.Json;
using Shoal.Daemon.Service;
using Shoal.Metainfo;
using Shoal.Tests.Daemon;
using Shoal.Tests.Interop;

namespace Shoal.Tests.Dialects;

/// <summary>The qBittorrent Web API's torrent, category, tag, transfer and app calls over real HTTP, with qBittorrent's names, types and states.</summary>
public sealed class QbTorrentTests : IAsyncLifetime
{
    private readonly TempFolder _folder = new("shoal-qb-torrents");
    private TestDaemon _daemon = null!;
    private QbClient _qb = null!;

    public async Task InitializeAsync()
    {
        _daemon = await TestDaemon.StartAsync(_folder);
        _qb = new QbClient(_daemon.Address);
    }

    public async Task DisposeAsync()
    {
        _qb.Dispose();
        await _daemon.DisposeAsync();
        _folder.Dispose();
    }

    private TorrentService Service => _daemon.Host.Service;

    [Fact]
    public async Task Add_takes_files_and_urls_with_options_and_info_answers_every_field()
    {
        Torrent torrent = await DialectTorrents.TwoFilesAsync(_folder, seed: 11);
        string hash = torrent.InfoHash.ToHex();
        (HttpStatusCode status, string text) = await _qb.AddAsync([("album.torrent", torrent.ToBytes())],
            ("savepath", Path.Combine(_daemon.Downloads, "music")), ("category", "music"), ("tags", "flac, hd"), ("stopped", "true"),
            ("sequentialDownload", "true"), ("dlLimit", "200000"), ("upLimit", "100000"), ("ratioLimit", "2.5"), ("seedingTimeLimit", "120"));
        Assert.Equal((HttpStatusCode.OK, "Ok."), (status, text));
        Assert.Equal((HttpStatusCode.OK, "Fails."), await _qb.AddAsync([("album.torrent", torrent.ToBytes())])); // already there
        (status, text) = await _qb.AddAsync([("broken.torrent", "not a torrent"u8.ToArray())]);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, status);
        Assert.Contains("broken.torrent", text);

        JsonElement t = await _qb.TorrentAsync(hash);
        Assert.Equal(hash, t.GetProperty("hash").GetString());
        Assert.Equal("album", t.GetProperty("name").GetString());
        Assert.Equal("music", t.GetProperty("category").GetString());
        Assert.Equal("flac, hd", t.GetProperty("tags").GetString());
        Assert.Equal("stoppedDL", t.GetProperty("state").GetString());
        Assert.Equal(Path.Combine(_daemon.Downloads, "music"), t.GetProperty("save_path").GetString());
        Assert.Equal(Path.Combine(_daemon.Downloads, "music", "album"), t.GetProperty("content_path").GetString());
        Assert.Equal(60_000, t.GetProperty("size").GetInt64());
        Assert.Equal(60_000, t.GetProperty("total_size").GetInt64());
        Assert.Equal(60_000, t.GetProperty("amount_left").GetInt64());
        Assert.Equal(0.0, t.GetProperty("progress").GetDouble());
        Assert.Equal(8_640_000, t.GetProperty("eta").GetInt64());
        Assert.True(t.GetProperty("seq_dl").GetBoolean());
        Assert.Equal(200_000, t.GetProperty("dl_limit").GetInt64());
        Assert.Equal(100_000, t.GetProperty("up_limit").GetInt64());
        Assert.Equal(2.5, t.GetProperty("ratio_limit").GetDouble());
        Assert.Equal(2.5, t.GetProperty("max_ratio").GetDouble());
        Assert.Equal(120, t.GetProperty("seeding_time_limit").GetInt64());
        Assert.Equal(-2, t.GetProperty("inactive_seeding_time_limit").GetInt64());
        Assert.Equal(1, t.GetProperty("priority").GetInt32());
        Assert.False(t.GetProperty("private").GetBoolean());
        Assert.True(t.GetProperty("has_metadata").GetBoolean());
        Assert.StartsWith("magnet:?xt=urn:btih:" + hash, t.GetProperty("magnet_uri").GetString());
        Assert.Equal(2, t.GetProperty("trackers_count").GetInt32());
        Assert.Equal(JsonValueKind.Number, t.GetProperty("added_on").ValueKind);
        Assert.Equal(-1, t.GetProperty("completion_on").GetInt64());
        Assert.Equal(57, t.EnumerateObject().Count());

        // The same torrent through the service: one daemon state.
        TorrentView view = Service.Get(hash);
        Assert.True(view.Paused);
        Assert.Equal(["flac", "hd"], view.Tags);
        Assert.Equal(120, Service.GetSettings(hash).SeedingTimeLimitMinutes);

        // A magnet link among the urls, added started and forced.
        Torrent other = await DialectTorrents.TwoFilesAsync(_folder, seed: 12, name: "other");
        Assert.Equal("Ok.", await _qb.OkAsync("torrents/add", ("urls", $"magnet:?xt=urn:btih:{other.InfoHash.ToHex()}&dn=other"), ("forced", "true")));
        JsonElement magnet = await _qb.TorrentAsync(other.InfoHash.ToHex());
        Assert.False(magnet.GetProperty("has_metadata").GetBoolean());
        Assert.Equal(JsonValueKind.Null, magnet.GetProperty("private").ValueKind);
        await Eventually.TrueAsync(() => _qb.TorrentAsync(other.InfoHash.ToHex()).GetAwaiter().GetResult().GetProperty("state").GetString() == "forcedMetaDL",
            TimeSpan.FromSeconds(30), "the magnet is not fetching its metadata (forced)");
    }

    [Fact]
    public async Task Info_filters_sorts_and_pages()
    {
        Torrent a = await DialectTorrents.TwoFilesAsync(_folder, seed: 13, name: "a");
        Torrent b = await DialectTorrents.TwoFilesAsync(_folder, seed: 14, name: "b", first: 10_000);
        (Torrent c, _) = await DialectTorrents.AlreadyDownloadedAsync(_daemon.Downloads, "c.bin", 50_000, seed: 15);
        await _qb.AddAsync([("a.torrent", a.ToBytes())], ("category", "x"), ("tags", "t1"), ("paused", "true"));
        await _qb.AddAsync([("b.torrent", b.ToBytes())], ("paused", "true"));
        await _qb.AddAsync([("c.torrent", c.ToBytes())]);
        await Eventually.TrueAsync(() => Service.Get(c.InfoHash.ToHex()).State == TorrentActivity.Seeding, TimeSpan.FromSeconds(60), "c never seeded");

        async Task<string[]> Names(string query) => [.. (await _qb.JsonAsync("torrents/info" + query)).EnumerateArray().Select(t => t.GetProperty("name").GetString()!)];
        Assert.Equal(["a", "b", "c.bin"], await Names("?sort=name"));
        Assert.Equal(["c.bin", "b", "a"], await Names("?sort=name&reverse=true"));
        Assert.Equal(["b", "c.bin", "a"], await Names("?sort=size"));
        Assert.Equal(["b"], await Names("?sort=name&limit=1&offset=1"));
        Assert.Equal(["c.bin"], await Names("?sort=name&offset=-1"));
        Assert.Equal(["a"], await Names("?category=x"));
        Assert.Equal(["b", "c.bin"], await Names("?category=&sort=name"));
        Assert.Equal(["a"], await Names("?tag=t1"));
        Assert.Equal(["b", "c.bin"], await Names("?tag=&sort=name"));
        Assert.Equal(["c.bin"], await Names("?filter=completed"));
        Assert.Equal(["c.bin"], await Names("?filter=seeding"));
        Assert.Equal(["a", "b"], await Names("?filter=stopped&sort=name"));
        Assert.Equal(["a", "b"], await Names("?filter=paused&sort=name"));
        Assert.Equal(["a", "b"], await Names("?filter=downloading&sort=name"));
        Assert.Equal(["c.bin"], await Names("?filter=running"));
        Assert.Equal(["b", "a"], await Names($"?hashes={b.InfoHash.ToHex()}|{a.InfoHash.ToHex()}&sort=priority&reverse=true"));
        Assert.Equal("3", (await _qb.GetAsync("torrents/count")).Text);
        JsonElement seeding = await _qb.TorrentAsync(c.InfoHash.ToHex());
        Assert.Contains(seeding.GetProperty("state").GetString(), new[] { "stalledUP", "uploading" });
        Assert.Equal(0, seeding.GetProperty("priority").GetInt32());
        Assert.Equal(1.0, seeding.GetProperty("progress").GetDouble());
        Assert.Equal(0, seeding.GetProperty("amount_left").GetInt64());
        Assert.Equal("", seeding.GetProperty("root_path").GetString());
        Assert.Equal(Path.Combine(_daemon.Downloads, "c.bin"), seeding.GetProperty("content_path").GetString());
    }

    [Fact]
    public async Task Properties_files_trackers_pieces_and_web_seeds_have_qBittorrent_shapes()
    {
        (Torrent torrent, _) = await DialectTorrents.AlreadyDownloadedAsync(_daemon.Downloads, "one.bin", 70_000, seed: 16);
        string hash = torrent.InfoHash.ToHex();
        await _qb.AddAsync([("one.torrent", torrent.ToBytes())]);
        await Eventually.TrueAsync(() => Service.Get(hash).State == TorrentActivity.Seeding, TimeSpan.FromSeconds(60), "never seeded");

        JsonElement p = await _qb.JsonAsync("torrents/properties?hash=" + hash.ToUpperInvariant());
        Assert.Equal(hash, p.GetProperty("hash").GetString());
        Assert.Equal(70_000, p.GetProperty("total_size").GetInt64());
        Assert.Equal(5, p.GetProperty("pieces_num").GetInt32());
        Assert.Equal(5, p.GetProperty("pieces_have").GetInt32());
        Assert.Equal(16384, p.GetProperty("piece_size").GetInt32());
        Assert.Equal(-1, p.GetProperty("dl_limit").GetInt64());
        Assert.True(p.GetProperty("completion_date").GetInt64() > 0);
        Assert.Equal(_daemon.Downloads, p.GetProperty("save_path").GetString());
        Assert.Equal(JsonValueKind.Number, p.GetProperty("seeding_time").ValueKind);
        Assert.Equal(1.0, p.GetProperty("progress").GetDouble());

        JsonElement files = await _qb.JsonAsync("torrents/files?hash=" + hash);
        JsonElement f = files.EnumerateArray().Single();
        Assert.Equal("one.bin", f.GetProperty("name").GetString());
        Assert.Equal(70_000, f.GetProperty("size").GetInt64());
        Assert.Equal(1.0, f.GetProperty("progress").GetDouble());
        Assert.Equal(1, f.GetProperty("priority").GetInt32());
        Assert.Equal([0, 4], f.GetProperty("piece_range").EnumerateArray().Select(x => x.GetInt32()));
        Assert.True(f.GetProperty("is_seed").GetBoolean());
        Assert.Equal(HttpStatusCode.Conflict, (await _qb.GetAsync($"torrents/files?hash={hash}&indexes=3")).Status);

        JsonElement trackers = await _qb.JsonAsync("torrents/trackers?hash=" + hash);
        Assert.Equal(["** [DHT] **", "** [PeX] **", "** [LSD] **"], trackers.EnumerateArray().Select(t => t.GetProperty("url").GetString()));
        Assert.Equal(0, trackers[0].GetProperty("status").GetInt32()); // DHT is off in the test daemon
        Assert.Equal([2, 2, 2, 2, 2], (await _qb.JsonAsync("torrents/pieceStates?hash=" + hash)).EnumerateArray().Select(x => x.GetInt32()));
        Assert.Equal(0, (await _qb.JsonAsync("torrents/webseeds?hash=" + hash)).GetArrayLength());
        Assert.Equal(0, (await _qb.JsonAsync("torrents/downloadLimit?hashes=" + hash)).GetProperty(hash).GetInt64());
    }

    [Fact]
    public async Task Stop_start_pause_resume_force_recheck_and_delete_with_files()
    {
        (Torrent torrent, string content) = await DialectTorrents.AlreadyDownloadedAsync(_daemon.Downloads, "run.bin", 60_000, seed: 17);
        string hash = torrent.InfoHash.ToHex();
        await _qb.AddAsync([("run.torrent", torrent.ToBytes())]);
        await WaitForStateAsync(hash, "stalledUP");

        await _qb.OkAsync("torrents/stop", ("hashes", hash));
        await WaitForStateAsync(hash, "stoppedUP");
        await _qb.OkAsync("torrents/start", ("hashes", hash));
        await WaitForStateAsync(hash, "stalledUP");
        await _qb.OkAsync("torrents/pause", ("hashes", "all"));
        await WaitForStateAsync(hash, "stoppedUP");
        await _qb.OkAsync("torrents/resume", ("hashes", hash.ToUpperInvariant()));
        await WaitForStateAsync(hash, "stalledUP");
        await _qb.OkAsync("torrents/setForceStart", ("hashes", hash), ("value", "true"));
        await WaitForStateAsync(hash, "forcedUP");
        await _qb.OkAsync("torrents/setForceStart", ("hashes", hash), ("value", "false"));
        await WaitForStateAsync(hash, "stalledUP");
        await _qb.OkAsync("torrents/reannounce", ("hashes", hash));
        await _qb.OkAsync("torrents/recheck", ("hashes", hash));
        await Eventually.TrueAsync(() => Service.Get(hash) is { State: TorrentActivity.Seeding, Progress: 1.0 }, TimeSpan.FromSeconds(60), "not checked and seeding again");
        // Unknown hashes are left out, as qBittorrent does.
        await _qb.OkAsync("torrents/stop", ("hashes", "0123456789012345678901234567890123456789|nonsense"));

        await _qb.OkAsync("torrents/delete", ("hashes", hash), ("deleteFiles", "true"));
        await Eventually.TrueAsync(() => !File.Exists(content), TimeSpan.FromSeconds(60), "the file was not deleted");
        Assert.Empty(Service.List());
    }

    [Fact]
    public async Task Categories_and_tags_are_the_daemons()
    {
        Torrent torrent = await DialectTorrents.TwoFilesAsync(_folder, seed: 18);
        string hash = torrent.InfoHash.ToHex();
        await _qb.AddAsync([("t.torrent", torrent.ToBytes())], ("paused", "true"));

        string films = Path.Combine(_daemon.Downloads, "films");
        await _qb.OkAsync("torrents/createCategory", ("category", "films"), ("savePath", films));
        Assert.Equal(HttpStatusCode.Conflict, (await _qb.PostAsync("torrents/createCategory", ("category", "films"))).Status);
        Assert.Equal(HttpStatusCode.Conflict, (await _qb.PostAsync("torrents/editCategory", ("category", "nope"), ("savePath", films))).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await _qb.PostAsync("torrents/createCategory", ("category", "etc"), ("savePath", "/etc"))).Status);
        JsonElement categories = await _qb.JsonAsync("torrents/categories");
        Assert.Equal("films", categories.GetProperty("films").GetProperty("name").GetString());
        Assert.Equal(films, categories.GetProperty("films").GetProperty("savePath").GetString());
        Assert.Contains(Service.GetCategories(), c => c.Name == "films" && c.SavePath == films);

        await _qb.OkAsync("torrents/setCategory", ("hashes", hash), ("category", "films"));
        Assert.Equal("films", Service.Get(hash).Category);
        Assert.Equal(HttpStatusCode.Conflict, (await _qb.PostAsync("torrents/setCategory", ("hashes", hash), ("category", "missing"))).Status);
        await _qb.OkAsync("torrents/setCategory", ("hashes", hash), ("category", ""));
        Assert.Null(Service.Get(hash).Category);
        await _qb.OkAsync("torrents/editCategory", ("category", "films"), ("savePath", Path.Combine(_daemon.Downloads, "movies")));
        await _qb.OkAsync("torrents/removeCategories", ("categories", "films\nnope"));
        Assert.Empty(Service.GetCategories());

        await _qb.OkAsync("torrents/createTags", ("tags", "a,b"));
        await _qb.OkAsync("torrents/addTags", ("hashes", hash), ("tags", "b,c"));
        Assert.Equal(["b", "c"], Service.Get(hash).Tags);
        Assert.Equal(["a", "b", "c"], (await _qb.JsonAsync("torrents/tags")).EnumerateArray().Select(t => t.GetString()));
        await _qb.OkAsync("torrents/removeTags", ("hashes", hash), ("tags", "c"));
        Assert.Equal(["b"], Service.Get(hash).Tags);
        await _qb.OkAsync("torrents/setTags", ("hashes", hash), ("tags", "a,c"));
        Assert.Equal(["a", "c"], Service.Get(hash).Tags);
        await _qb.OkAsync("torrents/removeTags", ("hashes", hash));
        Assert.Empty(Service.Get(hash).Tags);
        await _qb.OkAsync("torrents/deleteTags", ("tags", "a,b,c"));
        Assert.Empty(Service.GetTags());
    }

    [Fact]
    public async Task Share_limits_queue_files_limits_location_name_and_trackers_change_the_torrent()
    {
        Torrent a = await DialectTorrents.TwoFilesAsync(_folder, seed: 19, name: "a");
        Torrent b = await DialectTorrents.TwoFilesAsync(_folder, seed: 20, name: "b");
        string hashA = a.InfoHash.ToHex(), hashB = b.InfoHash.ToHex();
        await _qb.AddAsync([("a.torrent", a.ToBytes()), ("b.torrent", b.ToBytes())], ("paused", "true"));

        // Sonarr sends ratio and seeding time only; the inactive limit then follows the global one.
        await _qb.OkAsync("torrents/setShareLimits", ("hashes", hashA), ("ratioLimit", "1.25"), ("seedingTimeLimit", "600"));
        Shoal.Daemon.State.TorrentSettings s = Service.GetSettings(hashA);
        Assert.Equal(1.25, s.RatioLimit);
        Assert.Equal(600, s.SeedingTimeLimitMinutes);
        Assert.Null(s.IdleLimitMinutes);
        await _qb.OkAsync("torrents/setShareLimits", ("hashes", hashA), ("ratioLimit", "-2"), ("seedingTimeLimit", "-1"), ("inactiveSeedingTimeLimit", "30"));
        s = Service.GetSettings(hashA);
        Assert.Null(s.RatioLimit);
        Assert.Equal(-1, s.SeedingTimeLimitMinutes);
        Assert.Equal(30, s.IdleLimitMinutes);

        Assert.Equal(0, Service.Get(hashA).QueuePosition);
        await _qb.OkAsync("torrents/bottomPrio", ("hashes", hashA));
        Assert.Equal(1, Service.Get(hashA).QueuePosition);
        await _qb.OkAsync("torrents/topPrio", ("hashes", hashA));
        Assert.Equal(0, Service.Get(hashA).QueuePosition);
        await _qb.OkAsync("torrents/decreasePrio", ("hashes", hashA));
        Assert.Equal(1, Service.Get(hashA).QueuePosition);
        await _qb.OkAsync("torrents/increasePrio", ("hashes", hashA));
        Assert.Equal(0, Service.Get(hashA).QueuePosition);
        await Service.UpdateSettingsAsync(new System.Text.Json.Nodes.JsonObject { ["queueing_enabled"] = false });
        Assert.Equal(HttpStatusCode.Conflict, (await _qb.PostAsync("torrents/topPrio", ("hashes", hashB))).Status);

        await _qb.OkAsync("torrents/filePrio", ("hash", hashA), ("id", "0|1"), ("priority", "0"));
        Assert.All(Service.GetFiles(hashA), f => Assert.Equal(FilePriority.Skip, f.Priority));
        await _qb.OkAsync("torrents/filePrio", ("hash", hashA), ("id", "1"), ("priority", "7"));
        Assert.Equal(FilePriority.High, Service.GetFiles(hashA)[1].Priority);
        Assert.Equal(6, (await _qb.JsonAsync("torrents/files?hash=" + hashA))[1].GetProperty("priority").GetInt32());
        Assert.Equal(HttpStatusCode.BadRequest, (await _qb.PostAsync("torrents/filePrio", ("hash", hashA), ("id", "0"), ("priority", "3"))).Status);
        Assert.Equal(HttpStatusCode.Conflict, (await _qb.PostAsync("torrents/filePrio", ("hash", hashA), ("id", "9"), ("priority", "1"))).Status);

        await _qb.OkAsync("torrents/setDownloadLimit", ("hashes", $"{hashA}|{hashB}"), ("limit", "123456"));
        await _qb.OkAsync("torrents/setUploadLimit", ("hashes", hashA), ("limit", "-1"));
        Assert.Equal(123456, Service.Get(hashB).DownloadLimit);
        Assert.Equal(0, Service.Get(hashA).UploadLimit);
        await _qb.OkAsync("torrents/toggleSequentialDownload", ("hashes", hashA));
        Assert.True(Service.Get(hashA).Sequential);

        await _qb.OkAsync("torrents/rename", ("hash", hashA), ("name", "Renamed\nAlbum"));
        Assert.Equal("Renamed Album", Service.Get(hashA).Name);
        Assert.Equal(Path.Combine(_daemon.Downloads, "a"), (await _qb.TorrentAsync(hashA)).GetProperty("content_path").GetString());

        string elsewhere = Path.Combine(_daemon.Downloads, "elsewhere");
        await _qb.OkAsync("torrents/setLocation", ("hashes", hashB), ("location", elsewhere));
        Assert.Equal(elsewhere, Service.Get(hashB).SavePath);
        Assert.Equal(HttpStatusCode.Forbidden, (await _qb.PostAsync("torrents/setLocation", ("hashes", hashB), ("location", "/etc"))).Status);

        await _qb.OkAsync("torrents/addTrackers", ("hash", hashB), ("urls", "http://extra.example.net/announce\nudp://extra.example.net:80"));
        Assert.Equal(2, Service.GetSettings(hashB).Trackers.Count);
        await _qb.OkAsync("torrents/removeTrackers", ("hash", hashB), ("urls", "udp://extra.example.net:80"));
        Assert.Equal(["http://extra.example.net/announce"], Service.GetSettings(hashB).Trackers);
        Assert.Equal(HttpStatusCode.Conflict, (await _qb.PostAsync("torrents/removeTrackers", ("hash", hashB), ("urls", "udp://127.0.0.1:9/announce"))).Status);
    }

    [Fact]
    public async Task Transfer_and_app_read_and_change_the_daemon_settings()
    {
        JsonElement info = await _qb.JsonAsync("transfer/info");
        Assert.Equal("firewalled", info.GetProperty("connection_status").GetString());
        Assert.Equal(JsonValueKind.Number, info.GetProperty("dl_info_speed").ValueKind);
        Assert.Equal(JsonValueKind.Number, info.GetProperty("up_info_data").ValueKind);
        Assert.Equal("0", (await _qb.GetAsync("transfer/speedLimitsMode")).Text);
        await _qb.OkAsync("transfer/toggleSpeedLimitsMode");
        Assert.True(Service.Settings.AltSpeedEnabled);
        Assert.Equal("1", (await _qb.GetAsync("transfer/speedLimitsMode")).Text);
        await _qb.OkAsync("transfer/setSpeedLimitsMode", ("mode", "0"));
        Assert.False(Service.Settings.AltSpeedEnabled);
        await _qb.OkAsync("transfer/setDownloadLimit", ("limit", "5000000"));
        await _qb.OkAsync("transfer/setUploadLimit", ("limit", "1000000"));
        Assert.Equal("5000000", (await _qb.GetAsync("transfer/downloadLimit")).Text);
        Assert.Equal(1_000_000, Service.Settings.UploadLimit);

        Assert.Equal(_daemon.Downloads, (await _qb.GetAsync("app/defaultSavePath")).Text);
        JsonElement build = await _qb.JsonAsync("app/buildInfo");
        Assert.StartsWith("Shoal ", build.GetProperty("libtorrent").GetString());
        JsonElement prefs = await _qb.JsonAsync("app/preferences");
        Assert.Equal(_daemon.Downloads, prefs.GetProperty("save_path").GetString());
        Assert.Equal(5_000_000, prefs.GetProperty("dl_limit").GetInt64());
        Assert.False(prefs.GetProperty("dht").GetBoolean());
        Assert.True(prefs.GetProperty("queueing_enabled").GetBoolean());
        Assert.False(prefs.GetProperty("max_ratio_enabled").GetBoolean());
        Assert.Equal(0, prefs.GetProperty("max_ratio_act").GetInt32());
        Assert.Equal(_daemon.Address.Port, prefs.GetProperty("web_ui_port").GetInt32());

        string tv = Path.Combine(_daemon.Downloads, "tv");
        await _qb.OkAsync("app/setPreferences", ("json", JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["save_path"] = tv, ["max_ratio_enabled"] = true, ["max_ratio"] = 1.5, ["max_active_downloads"] = 2,
            ["scheduler_days"] = 1, ["schedule_from_hour"] = 8, ["schedule_from_min"] = 30, ["up_limit"] = -1, ["unknown_key"] = 7,
        })));
        DaemonSettings s = Service.Settings;
        Assert.Equal(tv, s.DefaultSavePath);
        Assert.Equal(1.5, s.RatioLimit);
        Assert.Equal(2, s.MaxActiveDownloads);
        Assert.Equal(62, s.AltScheduleDays); // weekdays
        Assert.Equal(8 * 60 + 30, s.AltScheduleBegin);
        Assert.Equal(0, s.UploadLimit);
        Assert.Equal(1, (await _qb.JsonAsync("app/preferences")).GetProperty("scheduler_days").GetInt32());
        Assert.Equal(HttpStatusCode.Forbidden, (await _qb.PostAsync("app/setPreferences", ("json", """{"save_path":"/etc"}"""))).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await _qb.PostAsync("app/setPreferences", ("json", "not json"))).Status);
    }

    [Fact]
    public async Task RenameFile_and_renameFolder_move_the_data_on_disk_and_in_the_file_list()
    {
        string album = Path.Combine(_daemon.Downloads, "album");
        var random = new Random(22);
        TestContent.WriteRandomFile(Path.Combine(album, "a.bin"), 40_000, random);
        TestContent.WriteRandomFile(Path.Combine(album, "b.bin"), 20_000, random);
        Torrent torrent = await TorrentCreator.CreateAsync(album, new TorrentCreationOptions { PieceLength = 16384 });
        string hash = torrent.InfoHash.ToHex();
        byte[] b = await File.ReadAllBytesAsync(Path.Combine(album, "b.bin"));
        Assert.Equal((HttpStatusCode.OK, "Ok."), await _qb.AddAsync([("album.torrent", torrent.ToBytes())]));
        await WaitForStateAsync(hash, "stalledUP");

        await _qb.OkAsync("torrents/renameFile", ("hash", hash), ("oldPath", "album/b.bin"), ("newPath", "album/extras/b2.bin"));
        Assert.Equal(b, await File.ReadAllBytesAsync(Path.Combine(album, "extras", "b2.bin")));
        await _qb.OkAsync("torrents/renameFolder", ("hash", hash), ("oldPath", "album"), ("newPath", "Album (2024)"));
        Assert.False(Directory.Exists(album));
        Assert.Equal(b, await File.ReadAllBytesAsync(Path.Combine(_daemon.Downloads, "Album (2024)", "extras", "b2.bin")));
        JsonElement files = await _qb.JsonAsync("torrents/files?hash=" + hash);
        Assert.Equal(new[] { "Album (2024)/a.bin", "Album (2024)/extras/b2.bin" }, files.EnumerateArray().Select(f => f.GetProperty("name").GetString()));
        await WaitForStateAsync(hash, "stalledUP");

        // Another file's name, or a path out of the folder: 409, nothing moves.
        Assert.Equal(HttpStatusCode.Conflict, (await _qb.PostAsync("torrents/renameFile", ("hash", hash), ("oldPath", "Album (2024)/a.bin"), ("newPath", "Album (2024)/extras/b2.bin"))).Status);
        Assert.Equal(HttpStatusCode.Conflict, (await _qb.PostAsync("torrents/renameFile", ("hash", hash), ("oldPath", "Album (2024)/a.bin"), ("newPath", "../a.bin"))).Status);
        Assert.True(File.Exists(Path.Combine(_daemon.Downloads, "Album (2024)", "a.bin")));
    }

    private async Task WaitForStateAsync(string hash, string state)
    {
        string? last = null;
        await Eventually.TrueAsync(() => (last = _qb.TorrentAsync(hash).GetAwaiter().GetResult().GetProperty("state").GetString()) == state,
            TimeSpan.FromSeconds(60), () => $"state never {state} (last {last})", pollMilliseconds: 200);
    }
}
