using System.Net;
using System.Text.Json;
using Shoal.Daemon.Service;
using Shoal.Metainfo;
using Shoal.Tests.Daemon;
using Shoal.Tests.Interop;

namespace Shoal.Tests.Dialects;

/// <summary>Transmission's torrent methods over real HTTP, with the field names, types and numbers of rpc-spec.md.</summary>
public sealed class TransmissionTorrentTests : IAsyncLifetime
{
    private readonly TempFolder _folder = new("shoal-tr-torrents");
    private TestDaemon _daemon = null!;
    private TransmissionClient _rpc = null!;

    public async Task InitializeAsync()
    {
        _daemon = await TestDaemon.StartAsync(_folder);
        _rpc = new TransmissionClient(_daemon.Address);
    }

    public async Task DisposeAsync()
    {
        _rpc.Dispose();
        await _daemon.DisposeAsync();
        _folder.Dispose();
    }

    private static readonly string[] SonarrFields =
    [
        "id", "hashString", "name", "downloadDir", "totalSize", "leftUntilDone", "isFinished", "eta", "status", "secondsDownloading",
        "secondsSeeding", "errorString", "uploadedEver", "downloadedEver", "seedRatioLimit", "seedRatioMode", "seedIdleLimit", "seedIdleMode", "fileCount",
    ];

    [Fact]
    public async Task Add_with_options_then_get_answers_every_field_with_its_type()
    {
        Torrent torrent = await DialectTorrents.TwoFilesAsync(_folder, seed: 1);
        string hash = torrent.InfoHash.ToHex();
        JsonElement added = await _rpc.OkAsync("torrent-add", new Dictionary<string, object>
        {
            ["metainfo"] = Convert.ToBase64String(torrent.ToBytes()),
            ["paused"] = true,
            ["download-dir"] = Path.Combine(_daemon.Downloads, "tv"),
            ["labels"] = new[] { "hd" },
            ["files-unwanted"] = new[] { 1 },
            ["priority-high"] = new[] { 0 },
        });
        JsonElement entry = added.GetProperty("torrent-added");
        Assert.Equal(hash, entry.GetProperty("hashString").GetString());
        long id = entry.GetProperty("id").GetInt64();
        Assert.Equal("album", entry.GetProperty("name").GetString());

        // The same torrent again is "torrent-duplicate", still a success.
        JsonElement again = await _rpc.OkAsync("torrent-add", new { metainfo = Convert.ToBase64String(torrent.ToBytes()) });
        Assert.Equal(id, again.GetProperty("torrent-duplicate").GetProperty("id").GetInt64());

        JsonElement t = await _rpc.TorrentAsync(hash, [.. SonarrFields, "file-count", "labels", "wanted", "priorities", "files", "fileStats", "percentDone",
            "percentComplete", "sizeWhenDone", "uploadRatio", "rateDownload", "rateUpload", "addedDate", "doneDate", "activityDate", "pieceCount", "pieceSize",
            "pieces", "magnetLink", "comment", "creator", "dateCreated", "isPrivate", "trackers", "trackerStats", "trackerList", "peersConnected", "peersFrom",
            "peers", "peersGettingFromUs", "peersSendingToUs", "queuePosition", "downloadLimit", "downloadLimited", "uploadLimit", "uploadLimited",
            "peer-limit", "error", "haveValid", "metadataPercentComplete", "primary-mime-type", "isStalled", "availability", "no-such-field"]);
        Assert.Equal(id, t.GetProperty("id").GetInt64());
        Assert.Equal(hash, t.GetProperty("hashString").GetString());
        Assert.Equal(Path.Combine(_daemon.Downloads, "tv"), t.GetProperty("downloadDir").GetString());
        Assert.Equal(60_000, t.GetProperty("totalSize").GetInt64());
        Assert.Equal(40_000, t.GetProperty("sizeWhenDone").GetInt64());
        Assert.Equal(40_000, t.GetProperty("leftUntilDone").GetInt64());
        Assert.False(t.GetProperty("isFinished").GetBoolean());
        Assert.Equal(-1, t.GetProperty("eta").GetInt32());
        Assert.Equal(0, t.GetProperty("status").GetInt32()); // added paused: stopped
        Assert.Equal(0, t.GetProperty("secondsDownloading").GetInt32());
        Assert.Equal("", t.GetProperty("errorString").GetString());
        Assert.Equal(0, t.GetProperty("error").GetInt32());
        Assert.Equal(0, t.GetProperty("uploadedEver").GetInt64());
        Assert.Equal(0, t.GetProperty("seedRatioMode").GetInt32()); // follows the session
        Assert.Equal(JsonValueKind.Number, t.GetProperty("seedRatioLimit").ValueKind);
        Assert.Equal(0, t.GetProperty("seedIdleMode").GetInt32());
        Assert.Equal(2, t.GetProperty("fileCount").GetInt32());
        Assert.Equal(2, t.GetProperty("file-count").GetInt32());
        Assert.Equal(["hd"], t.GetProperty("labels").EnumerateArray().Select(l => l.GetString()));
        Assert.Equal([1, 0], t.GetProperty("wanted").EnumerateArray().Select(w => w.GetInt32()));
        Assert.Equal([1, 0], t.GetProperty("priorities").EnumerateArray().Select(w => w.GetInt32()));
        JsonElement file = t.GetProperty("files")[1];
        Assert.Equal("album/b.bin", file.GetProperty("name").GetString());
        Assert.Equal(20_000, file.GetProperty("length").GetInt64());
        Assert.Equal(0, file.GetProperty("bytesCompleted").GetInt64());
        Assert.Equal(0, t.GetProperty("files")[0].GetProperty("begin_piece").GetInt32());
        Assert.Equal(2, file.GetProperty("begin_piece").GetInt32()); // b.bin starts at byte 40,000: piece 2 of 16 KiB
        Assert.Equal(4, file.GetProperty("end_piece").GetInt32()); // and ends in piece 3 (the end is one past)
        Assert.False(t.GetProperty("fileStats")[1].GetProperty("wanted").GetBoolean());
        Assert.Equal(1, t.GetProperty("fileStats")[0].GetProperty("priority").GetInt32());
        Assert.Equal(0.0, t.GetProperty("percentDone").GetDouble());
        Assert.Equal(-1.0, t.GetProperty("uploadRatio").GetDouble());
        Assert.True(t.GetProperty("addedDate").GetInt64() > 1_600_000_000);
        Assert.Equal(0, t.GetProperty("doneDate").GetInt64());
        Assert.Equal(4, t.GetProperty("pieceCount").GetInt32());
        Assert.Equal(16384, t.GetProperty("pieceSize").GetInt32());
        Assert.Equal(Convert.ToBase64String([0]), t.GetProperty("pieces").GetString());
        Assert.StartsWith($"magnet:?xt=urn:btih:{hash}", t.GetProperty("magnetLink").GetString());
        Assert.Equal("made for a test", t.GetProperty("comment").GetString());
        Assert.False(t.GetProperty("isPrivate").GetBoolean());
        Assert.Equal(2, t.GetProperty("trackers").GetArrayLength());
        Assert.Equal(1, t.GetProperty("trackers")[1].GetProperty("tier").GetInt32());
        Assert.Equal("http://tracker.example.org:6969/scrape", t.GetProperty("trackers")[1].GetProperty("scrape").GetString());
        Assert.Equal("example", t.GetProperty("trackers")[1].GetProperty("sitename").GetString());
        Assert.Equal(-1, t.GetProperty("trackerStats")[0].GetProperty("seederCount").GetInt32());
        Assert.Equal("udp://127.0.0.1:9/announce\n\nhttp://tracker.example.org:6969/announce\n", t.GetProperty("trackerList").GetString());
        Assert.Equal(0, t.GetProperty("peersFrom").GetProperty("fromTracker").GetInt32());
        Assert.Equal(0, t.GetProperty("peers").GetArrayLength());
        Assert.False(t.GetProperty("downloadLimited").GetBoolean());
        Assert.Equal(_daemon.Host.Service.Settings.MaxConnectionsPerTorrent, t.GetProperty("peer-limit").GetInt32());
        Assert.Equal("application/octet-stream", t.GetProperty("primary-mime-type").GetString());
        Assert.Equal([0, 0, 0, 0], t.GetProperty("availability").EnumerateArray().Select(a => a.GetInt32()));
        Assert.False(t.TryGetProperty("no-such-field", out _));

        // The same torrent through the native API: one daemon state.
        TorrentView view = _daemon.Host.Service.Get(hash);
        Assert.True(view.Paused);
        Assert.Equal(["hd"], view.Tags);
        Assert.Equal(FilePriority.Skip, _daemon.Host.Service.GetFiles(hash)[1].Priority);
        Assert.Equal(FilePriority.High, _daemon.Host.Service.GetFiles(hash)[0].Priority);
    }

    [Fact]
    public async Task Get_takes_ids_as_numbers_hashes_or_recently_active_and_answers_tables()
    {
        Torrent a = await DialectTorrents.TwoFilesAsync(_folder, seed: 2, name: "a");
        Torrent b = await DialectTorrents.TwoFilesAsync(_folder, seed: 3, name: "b");
        long idA = (await _rpc.OkAsync("torrent-add", new { metainfo = Convert.ToBase64String(a.ToBytes()), paused = true })).GetProperty("torrent-added").GetProperty("id").GetInt64();
        long idB = (await _rpc.OkAsync("torrent-add", new { metainfo = Convert.ToBase64String(b.ToBytes()), paused = true })).GetProperty("torrent-added").GetProperty("id").GetInt64();

        JsonElement byNumber = await _rpc.OkAsync("torrent-get", new { ids = idB, fields = new[] { "id" } });
        Assert.Equal([idB], byNumber.GetProperty("torrents").EnumerateArray().Select(t => t.GetProperty("id").GetInt64()));
        JsonElement mixed = await _rpc.OkAsync("torrent-get", new { ids = new object[] { b.InfoHash.ToHex(), idA, 999, "0000000000000000000000000000000000000000" }, fields = new[] { "id" } });
        Assert.Equal([idB, idA], mixed.GetProperty("torrents").EnumerateArray().Select(t => t.GetProperty("id").GetInt64()));
        JsonElement all = await _rpc.OkAsync("torrent-get", new { fields = new[] { "id", "name" }, format = "table" });
        JsonElement rows = all.GetProperty("torrents");
        Assert.Equal(["id", "name"], rows[0].EnumerateArray().Select(c => c.GetString()));
        Assert.Equal(idA, rows[1][0].GetInt64());
        Assert.Equal("b", rows[2][1].GetString());

        JsonElement recent = await _rpc.OkAsync("torrent-get", new { ids = "recently-active", fields = new[] { "id" } });
        Assert.Equal(2, recent.GetProperty("torrents").GetArrayLength());
        Assert.Equal(0, recent.GetProperty("removed").GetArrayLength());
        await _rpc.OkAsync("torrent-remove", new { ids = new[] { idA } });
        await Eventually.TrueAsync(() => _daemon.Host.Service.List().Count == 1, TimeSpan.FromSeconds(30), "torrent a still listed");
        JsonElement afterRemoval = default;
        await Eventually.TrueAsync(() =>
        {
            afterRemoval = _rpc.OkAsync("torrent_get", new { ids = "recently_active", fields = new[] { "id" } }).GetAwaiter().GetResult();
            return afterRemoval.GetProperty("removed").GetArrayLength() == 1;
        }, TimeSpan.FromSeconds(30), "the removal is not in 'removed'");
        Assert.Equal(idA, afterRemoval.GetProperty("removed")[0].GetInt64());
        Assert.DoesNotContain(idA, afterRemoval.GetProperty("torrents").EnumerateArray().Select(t => t.GetProperty("id").GetInt64()));
    }

    [Fact]
    public async Task Set_changes_limits_goals_files_labels_trackers_and_queue_position()
    {
        Torrent a = await DialectTorrents.TwoFilesAsync(_folder, seed: 4, name: "a");
        Torrent b = await DialectTorrents.TwoFilesAsync(_folder, seed: 5, name: "b");
        string hashA = a.InfoHash.ToHex(), hashB = b.InfoHash.ToHex();
        await _rpc.OkAsync("torrent-add", new { metainfo = Convert.ToBase64String(a.ToBytes()), paused = true, labels = new[] { "old" } });
        await _rpc.OkAsync("torrent-add", new { metainfo = Convert.ToBase64String(b.ToBytes()), paused = true });

        await _rpc.OkAsync("torrent-set", new Dictionary<string, object>
        {
            ["ids"] = new[] { hashA },
            ["downloadLimit"] = 50,
            ["downloadLimited"] = true,
            ["uploadLimited"] = true,
            ["seedRatioLimit"] = 1.5,
            ["seedRatioMode"] = 1,
            ["seedIdleLimit"] = 90,
            ["seedIdleMode"] = 1,
            ["peer-limit"] = 33,
            ["files-unwanted"] = new[] { 0 },
            ["priority-low"] = new[] { 1 },
            ["labels"] = new[] { "new", "hd" },
            ["trackerAdd"] = new[] { "http://extra.example.net/announce" },
            ["sequential_download"] = true,
        });
        TorrentView view = _daemon.Host.Service.Get(hashA);
        Assert.Equal(50_000, view.DownloadLimit);
        Assert.Equal(100_000, view.UploadLimit); // switched on without a value: Transmission's default 100 kB/s
        Assert.True(view.Sequential);
        Assert.Equal(["hd", "new"], view.Tags);
        Shoal.Daemon.State.TorrentSettings settings = _daemon.Host.Service.GetSettings(hashA);
        Assert.Equal(1.5, settings.RatioLimit);
        Assert.Equal(90, settings.IdleLimitMinutes);
        Assert.Equal(33, settings.MaxConnections);
        Assert.Equal(["http://extra.example.net/announce"], settings.Trackers);
        Assert.Equal([FilePriority.Skip, FilePriority.Low], _daemon.Host.Service.GetFiles(hashA).Select(f => f.Priority));

        JsonElement t = await _rpc.TorrentAsync(hashA, "downloadLimit", "downloadLimited", "seedRatioLimit", "seedRatioMode", "seedIdleLimit", "seedIdleMode", "wanted", "priorities", "trackers");
        Assert.Equal(50, t.GetProperty("downloadLimit").GetInt32());
        Assert.True(t.GetProperty("downloadLimited").GetBoolean());
        Assert.Equal(1.5, t.GetProperty("seedRatioLimit").GetDouble());
        Assert.Equal(1, t.GetProperty("seedRatioMode").GetInt32());
        Assert.Equal(90, t.GetProperty("seedIdleLimit").GetInt32());
        Assert.Equal([0, 1], t.GetProperty("wanted").EnumerateArray().Select(w => w.GetInt32()));
        Assert.Equal([0, -1], t.GetProperty("priorities").EnumerateArray().Select(w => w.GetInt32()));
        Assert.Equal(3, t.GetProperty("trackers").GetArrayLength());

        // Modes back to the session and "unlimited"; limits off; every file wanted (an empty list is all files).
        await _rpc.OkAsync("torrent-set", new Dictionary<string, object>
        {
            ["ids"] = new[] { hashA },
            ["seedRatioMode"] = 0,
            ["seedIdleMode"] = 2,
            ["downloadLimited"] = false,
            ["files-wanted"] = Array.Empty<int>(),
            ["trackerRemove"] = new[] { 2 },
        });
        settings = _daemon.Host.Service.GetSettings(hashA);
        Assert.Null(settings.RatioLimit);
        Assert.Equal(-1, settings.IdleLimitMinutes);
        Assert.Empty(settings.Trackers);
        Assert.Equal(0, _daemon.Host.Service.Get(hashA).DownloadLimit);
        Assert.DoesNotContain(FilePriority.Skip, _daemon.Host.Service.GetFiles(hashA).Select(f => f.Priority));
        Assert.StartsWith("tracker 0 is the torrent's own", await _rpc.FailAsync("torrent-set", new { ids = new[] { hashA }, trackerRemove = new[] { 0 } }));
        Assert.Contains("file 7", await _rpc.FailAsync("torrent-set", new { ids = new[] { hashA }, priority_high = new[] { 7 } }));

        // queuePosition and the queue moves.
        Assert.Equal(0, _daemon.Host.Service.Get(hashA).QueuePosition);
        await _rpc.OkAsync("torrent-set", new { ids = new[] { hashA }, queuePosition = 1 });
        Assert.Equal(0, _daemon.Host.Service.Get(hashB).QueuePosition);
        await _rpc.OkAsync("queue-move-top", new { ids = new[] { hashA } });
        Assert.Equal(0, _daemon.Host.Service.Get(hashA).QueuePosition);
        await _rpc.OkAsync("queue-move-down", new { ids = new[] { hashA } });
        Assert.Equal(1, _daemon.Host.Service.Get(hashA).QueuePosition);
        await _rpc.OkAsync("queue-move-up", new { ids = new[] { hashA } });
        Assert.Equal(0, _daemon.Host.Service.Get(hashA).QueuePosition);
        await _rpc.OkAsync("queue-move-bottom", new { ids = new[] { hashA } });
        Assert.Equal(1, _daemon.Host.Service.Get(hashA).QueuePosition);
    }

    [Fact]
    public async Task Start_stop_start_now_verify_and_reannounce_drive_the_torrent_and_remove_deletes_its_data()
    {
        (Torrent torrent, string content) = await DialectTorrents.AlreadyDownloadedAsync(_daemon.Downloads, "show.mp4", 200_000, seed: 6);
        string hash = torrent.InfoHash.ToHex();
        await _rpc.OkAsync("torrent-add", new { metainfo = Convert.ToBase64String(torrent.ToBytes()) });
        await WaitForStatusAsync(hash, 6); // its data is there: checked, then seeding
        JsonElement t = await _rpc.TorrentAsync(hash, "percentDone", "leftUntilDone", "doneDate", "pieces", "primary-mime-type", "isFinished");
        Assert.Equal(1.0, t.GetProperty("percentDone").GetDouble());
        Assert.Equal(0, t.GetProperty("leftUntilDone").GetInt64());
        Assert.True(t.GetProperty("doneDate").GetInt64() > 0);
        Assert.Equal("video/mp4", t.GetProperty("primary-mime-type").GetString());
        byte[] pieces = Convert.FromBase64String(t.GetProperty("pieces").GetString()!);
        Assert.Equal([0xFF, 0xF8], pieces); // 13 pieces of 16 KiB, all there

        await _rpc.OkAsync("torrent-stop", new { ids = new[] { hash } });
        await WaitForStatusAsync(hash, 0);
        await _rpc.OkAsync("torrent-verify", new { ids = new[] { hash } });
        // A stopped torrent is checked (status 2) and stays stopped, complete again.
        await Eventually.TrueAsync(() => _daemon.Host.Service.Get(hash) is { State: TorrentActivity.Paused, Progress: 1.0 }, TimeSpan.FromSeconds(60),
            () => $"not checked and stopped: {_daemon.Host.Service.Get(hash)}");
        await _rpc.OkAsync("torrent-start-now", new { ids = new[] { hash } });
        await WaitForStatusAsync(hash, 6);
        Assert.True(_daemon.Host.Service.Get(hash).ForceStarted);
        await _rpc.OkAsync("torrent-reannounce", new { ids = new[] { hash } });
        await _rpc.OkAsync("torrent-start", new { ids = new[] { hash } });
        Assert.False(_daemon.Host.Service.Get(hash).ForceStarted);

        await _rpc.OkAsync("torrent-remove", new Dictionary<string, object> { ["ids"] = new[] { hash }, ["delete-local-data"] = true });
        await Eventually.TrueAsync(() => !File.Exists(content), TimeSpan.FromSeconds(60), "the data was not deleted");
        Assert.Empty(_daemon.Host.Service.List());
    }

    [Fact]
    public async Task Set_location_moves_the_data_or_looks_for_it_elsewhere()
    {
        (Torrent torrent, string content) = await DialectTorrents.AlreadyDownloadedAsync(_daemon.Downloads, "film.mp4", 100_000, seed: 7);
        string hash = torrent.InfoHash.ToHex();
        await _rpc.OkAsync("torrent-add", new { metainfo = Convert.ToBase64String(torrent.ToBytes()) });
        await WaitForStatusAsync(hash, 6);

        byte[] original = await File.ReadAllBytesAsync(content);
        string moved = Path.Combine(_daemon.Downloads, "films");
        await _rpc.OkAsync("torrent-set-location", new { ids = new[] { hash }, location = moved, move = true });
        Assert.False(File.Exists(content));
        Assert.Equal(original, await File.ReadAllBytesAsync(Path.Combine(moved, "film.mp4")));
        Assert.Equal(moved, (await _rpc.TorrentAsync(hash, "downloadDir")).GetProperty("downloadDir").GetString());
        await WaitForStatusAsync(hash, 6);

        // Without move the data is looked for in the new folder: nothing there, so it downloads again (from nobody).
        string empty = Path.Combine(_daemon.Downloads, "empty");
        await _rpc.OkAsync("torrent-set-location", new { ids = new[] { hash }, location = empty });
        await WaitForStatusAsync(hash, 4);
        Assert.True(File.Exists(Path.Combine(moved, "film.mp4")));

        // Outside the daemon's folders: refused.
        Assert.Contains("outside the folders", await _rpc.FailAsync("torrent-set-location", new { ids = new[] { hash }, location = "/etc", move = true }));
    }

    [Fact]
    public async Task Rename_path_renames_a_file_and_a_folder_on_disk_and_in_the_file_list_without_a_recheck()
    {
        string album = Path.Combine(_daemon.Downloads, "album");
        var random = new Random(21);
        TestContent.WriteRandomFile(Path.Combine(album, "a.bin"), 40_000, random);
        TestContent.WriteRandomFile(Path.Combine(album, "b.bin"), 20_000, random);
        Torrent torrent = await TorrentCreator.CreateAsync(album, new TorrentCreationOptions { PieceLength = 16384 });
        string hash = torrent.InfoHash.ToHex();
        byte[] a = await File.ReadAllBytesAsync(Path.Combine(album, "a.bin"));
        await _rpc.OkAsync("torrent-add", new { metainfo = Convert.ToBase64String(torrent.ToBytes()) });
        await WaitForStatusAsync(hash, 6);

        JsonElement renamed = await _rpc.OkAsync("torrent-rename-path", new { ids = new[] { hash }, path = "album/a.bin", name = "first.bin" });
        Assert.Equal(("album/a.bin", "first.bin"), (renamed.GetProperty("path").GetString(), renamed.GetProperty("name").GetString()));
        Assert.False(File.Exists(Path.Combine(album, "a.bin")));
        Assert.Equal(a, await File.ReadAllBytesAsync(Path.Combine(album, "first.bin")));

        await _rpc.OkAsync("torrent-rename-path", new { ids = new[] { hash }, path = "album", name = "record" });
        Assert.False(Directory.Exists(album));
        Assert.Equal(a, await File.ReadAllBytesAsync(Path.Combine(_daemon.Downloads, "record", "first.bin")));
        JsonElement files = (await _rpc.TorrentAsync(hash, "files")).GetProperty("files");
        Assert.Equal(new[] { "record/first.bin", "record/b.bin" }, files.EnumerateArray().Select(f => f.GetProperty("name").GetString()));
        await WaitForStatusAsync(hash, 6);
        JsonElement left = await _rpc.TorrentAsync(hash, "leftUntilDone", "haveValid");
        Assert.Equal(0, left.GetProperty("leftUntilDone").GetInt64());

        Assert.Contains("not a file or folder name", await _rpc.FailAsync("torrent-rename-path", new { ids = new[] { hash }, path = "record/b.bin", name = "x/y" }));
        Assert.Contains("both be", await _rpc.FailAsync("torrent-rename-path", new { ids = new[] { hash }, path = "record/b.bin", name = "first.bin" }));
    }

    [Fact]
    public async Task Add_by_filename_takes_magnets_and_torrent_files_inside_the_daemon_folders_only()
    {
        Torrent torrent = await DialectTorrents.TwoFilesAsync(_folder, seed: 8);
        string magnet = $"magnet:?xt=urn:btih:{torrent.InfoHash.ToHex()}&dn=from%20a%20magnet";
        JsonElement added = await _rpc.OkAsync("torrent-add", new { filename = magnet, paused = true });
        Assert.Equal("from a magnet", added.GetProperty("torrent-added").GetProperty("name").GetString());
        JsonElement t = await _rpc.TorrentAsync(torrent.InfoHash.ToHex(), "totalSize", "metadataPercentComplete", "files", "status");
        Assert.Equal(0, t.GetProperty("totalSize").GetInt64());
        Assert.Equal(0.0, t.GetProperty("metadataPercentComplete").GetDouble());
        await _rpc.OkAsync("torrent-remove", new { ids = new[] { torrent.InfoHash.ToHex() } });
        await Eventually.TrueAsync(() => _daemon.Host.Service.List().Count == 0, TimeSpan.FromSeconds(30), "not removed");

        string inside = Path.Combine(_daemon.Downloads, "album.torrent");
        Directory.CreateDirectory(_daemon.Downloads);
        await File.WriteAllBytesAsync(inside, torrent.ToBytes());
        await _rpc.OkAsync("torrent-add", new { filename = inside, paused = true });
        Assert.Single(_daemon.Host.Service.List());

        string outside = _folder.Combine("elsewhere.torrent");
        await File.WriteAllBytesAsync(outside, torrent.ToBytes());
        Assert.Contains("outside the folders", await _rpc.FailAsync("torrent-add", new { filename = outside }));
        Torrent other = await DialectTorrents.TwoFilesAsync(_folder, seed: 10, name: "other");
        Assert.Contains("outside the folders", await _rpc.FailAsync("torrent-add", new Dictionary<string, object> { ["metainfo"] = Convert.ToBase64String(other.ToBytes()), ["download-dir"] = "/tmp" }));
    }

    [Fact]
    public async Task JSON_RPC_answers_torrents_in_snake_case_with_boolean_wanted()
    {
        Torrent torrent = await DialectTorrents.TwoFilesAsync(_folder, seed: 9);
        JsonElement added = await _rpc.JsonRpcAsync("torrent_add", new { metainfo = Convert.ToBase64String(torrent.ToBytes()), paused = true, files_unwanted = new[] { 0 } });
        Assert.Equal(torrent.InfoHash.ToHex(), added.GetProperty("result").GetProperty("torrent_added").GetProperty("hash_string").GetString());
        JsonElement got = await _rpc.JsonRpcAsync("torrent_get", new { fields = new[] { "hash_string", "wanted", "file_stats", "files", "peers_from", "left_until_done" } });
        JsonElement t = got.GetProperty("result").GetProperty("torrents")[0];
        Assert.Equal([false, true], t.GetProperty("wanted").EnumerateArray().Select(w => w.GetBoolean()));
        Assert.Equal(0, t.GetProperty("file_stats")[0].GetProperty("bytes_completed").GetInt64());
        Assert.Equal(40_000, t.GetProperty("files")[0].GetProperty("length").GetInt64());
        Assert.Equal(0, t.GetProperty("peers_from").GetProperty("from_dht").GetInt32());
        Assert.Equal(20_000, t.GetProperty("left_until_done").GetInt64());
    }

    [Fact]
    public async Task TrackerStats_date_a_failed_announce_so_clients_can_say_how_long_ago()
    {
        Torrent torrent = await DialectTorrents.TwoFilesAsync(_folder, seed: 1607, into: "failing"); // its first tracker refuses (nothing on udp port 9)
        string hash = torrent.InfoHash.ToHex();
        await _rpc.OkAsync("torrent-add", new { metainfo = Convert.ToBase64String(torrent.ToBytes()) });
        JsonElement stats = default;
        await Eventually.TrueAsync(() =>
        {
            stats = _rpc.TorrentAsync(hash, "trackerStats").GetAwaiter().GetResult().GetProperty("trackerStats")[0];
            return stats.GetProperty("hasAnnounced").GetBoolean();
        }, TimeSpan.FromSeconds(60), () => "never announced: " + stats, pollMilliseconds: 200);
        Assert.False(stats.GetProperty("lastAnnounceSucceeded").GetBoolean());
        Assert.NotEqual("", stats.GetProperty("lastAnnounceResult").GetString());
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        long at = stats.GetProperty("lastAnnounceTime").GetInt64();
        Assert.InRange(at, now - 120, now + 5); // not 0, which clients print as "20,000 days ago"
        Assert.Equal(at, stats.GetProperty("lastAnnounceStartTime").GetInt64());
    }

    private async Task WaitForStatusAsync(string hash, int status, string? what = null)
    {
        JsonElement last = default;
        await Eventually.TrueAsync(() =>
        {
            last = _rpc.TorrentAsync(hash, "status", "errorString").GetAwaiter().GetResult();
            return last.GetProperty("status").GetInt32() == status;
        }, TimeSpan.FromSeconds(90), () => $"status never {status} ({what}): {last}", pollMilliseconds: 200);
    }
}
