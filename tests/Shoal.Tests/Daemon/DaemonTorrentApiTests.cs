using System.Net;
using System.Text.Json;
using Shoal.Daemon.State;
using Shoal.Tests.Interop;

namespace Shoal.Tests.Daemon;

/// <summary>The daemon's torrent operations over real HTTP on 127.0.0.1, with a Shoal seed on loopback as the peer.</summary>
public sealed class DaemonTorrentApiTests() : DaemonApiTests("shoal-daemon-api")
{
    [Fact]
    public async Task A_torrent_added_by_file_downloads_then_pause_and_resume_keep_its_data()
    {
        await using LoopbackSeed seed = await LoopbackSeed.StartAsync(Folder, "movie.bin", 3 << 20, seed: 1);
        long id = await DaemonApi.AddAsync(Api, seed.Torrent.ToBytes());
        JsonElement row = await DaemonApi.WaitForStateAsync(Api, id, "seeding");
        Assert.Equal(1.0, row.GetProperty("progress").GetDouble());
        Assert.Equal(seed.Torrent.InfoHash.ToHex(), row.GetProperty("info_hash").GetString());
        string downloaded = Path.Combine(Server.Downloads, "movie.bin");
        TestContent.AssertSameTree(seed.Content, downloaded);

        await DaemonApi.ActAsync(Api, "pause", id);
        row = await DaemonApi.WaitForStateAsync(Api, id, "paused");
        Assert.True(row.GetProperty("paused").GetBoolean());
        // A paused torrent has no connections: the seed sees its peer leave.
        await Eventually.TrueAsync(() => seed.Session.Torrents[0].GetStatus().Peers == 0, TimeSpan.FromSeconds(30), "the seed still has a peer after the pause");
        Assert.Equal(1.0, row.GetProperty("progress").GetDouble());
        TestContent.AssertSameTree(seed.Content, downloaded);
        long before = row.GetProperty("downloaded").GetInt64();

        await DaemonApi.ActAsync(Api, "resume", id);
        row = await DaemonApi.WaitForStateAsync(Api, id, "seeding");
        // Resumed from its resume data: nothing downloaded again.
        Assert.Equal(before, row.GetProperty("downloaded").GetInt64());
    }

    [Fact]
    public async Task A_magnet_link_fetches_its_metadata_then_the_data()
    {
        await using LoopbackSeed seed = await LoopbackSeed.StartAsync(Folder, "album", 2 << 20, seed: 2, files: 3);
        long id = await DaemonApi.AddUriAsync(Api, seed.Magnet);
        await DaemonApi.WaitForStateAsync(Api, id, "seeding");
        JsonElement row = await Api.TorrentAsync(id);
        Assert.Equal("album", row.GetProperty("name").GetString());
        Assert.Equal(3, row.GetProperty("file_count").GetInt32());
        TestContent.AssertSameTree(seed.Content, Path.Combine(Server.Downloads, "album"));
        // The metadata is in the database: after a restart the torrent is known without asking peers again.
        await Server.RestartAsync();
        using ApiClient client = Server.Client();
        JsonElement again = await client.TorrentAsync(id);
        Assert.True(again.GetProperty("has_metadata").GetBoolean());
        Assert.Equal(3, again.GetProperty("file_count").GetInt32());
    }

    [Fact]
    public async Task A_skipped_file_is_never_written_and_unskipping_fetches_it()
    {
        await using LoopbackSeed seed = await LoopbackSeed.StartAsync(Folder, "set", 3 << 20, seed: 3, files: 3, pieceLength: 16384);
        long id = await DaemonApi.AddAsync(Api, seed.Torrent.ToBytes(), new { file_priorities = new[] { "normal", "skip", "high" } });
        JsonElement row = await DaemonApi.WaitForStateAsync(Api, id, "seeding");
        Assert.Equal(2L << 20, row.GetProperty("wanted_size").GetInt64());
        string folder = Path.Combine(Server.Downloads, "set");
        Assert.False(File.Exists(Path.Combine(folder, "part1.bin")), "the skipped file was written");
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(seed.Content, "part0.bin")), await File.ReadAllBytesAsync(Path.Combine(folder, "part0.bin")));
        (HttpStatusCode status, JsonElement files) = await Api.GetAsync($"api/v1/torrents/{id}/files");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(["normal", "skip", "high"], files.EnumerateArray().Select(f => f.GetProperty("priority").GetString()));

        (status, _) = await Api.PostAsync($"api/v1/torrents/{id}/files/priority", new { files = new[] { 1 }, priority = "normal" });
        Assert.Equal(HttpStatusCode.OK, status);
        await Eventually.TrueAsync(() => File.Exists(Path.Combine(folder, "part1.bin"))
            && new FileInfo(Path.Combine(folder, "part1.bin")).Length == 1 << 20
            && DaemonApi.StateAsync(Api, id).Result == "seeding", DaemonApi.Patience, "the unskipped file never completed");
        TestContent.AssertSameTree(seed.Content, folder);
    }

    [Fact]
    public async Task The_queue_starts_the_next_download_when_one_finishes()
    {
        await DaemonApi.SettingsAsync(Api, new { max_active_downloads = 1 });
        // The first seed sends 2 MiB at 512 KiB/s: the first download holds the only slot for a few seconds.
        await using LoopbackSeed first = await LoopbackSeed.StartAsync(Folder, "first.bin", 2 << 20, seed: 4, uploadRate: 512 * 1024);
        await using LoopbackSeed second = await LoopbackSeed.StartAsync(Folder, "second.bin", 1 << 20, seed: 5);
        long a = await DaemonApi.AddAsync(Api, first.Torrent.ToBytes());
        long b = await DaemonApi.AddAsync(Api, second.Torrent.ToBytes());
        // b's data is checked first (none is there), then it waits for the slot a holds.
        JsonElement queued = await DaemonApi.WaitForStateAsync(Api, b, "queued_download");
        Assert.Contains("1 of 1 download slots", queued.GetProperty("state_reason").GetString());
        Assert.Equal("downloading", await DaemonApi.StateAsync(Api, a));
        await DaemonApi.WaitForStateAsync(Api, a, "seeding");
        await DaemonApi.WaitForStateAsync(Api, b, "seeding");
        TestContent.AssertSameTree(second.Content, Path.Combine(Server.Downloads, "second.bin"));
    }

    [Fact]
    public async Task Data_already_there_is_checked_and_seeded_even_when_no_download_slot_is_free()
    {
        await DaemonApi.SettingsAsync(Api, new { max_active_downloads = 0 });
        (Shoal.Metainfo.Torrent present, _) = await TestDaemon.MakeTorrentAsync(Folder, "present.bin", 300_000, seed: 41, into: Server.Downloads);
        (Shoal.Metainfo.Torrent absent, _) = await TestDaemon.MakeTorrentAsync(Folder, "absent.bin", 300_000, seed: 42);
        long seeding = await DaemonApi.AddAsync(Api, present.ToBytes());
        long waiting = await DaemonApi.AddAsync(Api, absent.ToBytes());
        JsonElement row = await DaemonApi.WaitForStateAsync(Api, seeding, "seeding");
        Assert.Equal(1.0, row.GetProperty("progress").GetDouble());
        Assert.Equal(0, row.GetProperty("downloaded").GetInt64());
        row = await DaemonApi.WaitForStateAsync(Api, waiting, "queued_download");
        Assert.Contains("0 of 0 download slots", row.GetProperty("state_reason").GetString());
    }

    [Fact]
    public async Task A_seeding_goal_pauses_the_torrent_or_removes_it()
    {
        await using LoopbackSeed seed = await LoopbackSeed.StartAsync(Folder, "goal.bin", 1 << 20, seed: 6);
        long id = await DaemonApi.AddAsync(Api, seed.Torrent.ToBytes(), new { ratio_limit = 0.0 });
        JsonElement row = await DaemonApi.WaitForStateAsync(Api, id, "paused");
        Assert.Contains("seeding goal reached", row.GetProperty("state_reason").GetString());
        Assert.Equal(1.0, row.GetProperty("progress").GetDouble());

        await DaemonApi.SettingsAsync(Api, new { seeding_goal_action = "remove", seeding_time_limit_minutes = 0 });
        await using LoopbackSeed other = await LoopbackSeed.StartAsync(Folder, "goal2.bin", 1 << 20, seed: 7);
        long removed = await DaemonApi.AddAsync(Api, other.Torrent.ToBytes());
        await Eventually.TrueAsync(() => Api.GetAsync($"api/v1/torrents/{removed}").Result.Status == HttpStatusCode.NotFound,
            DaemonApi.Patience, "the torrent that reached its goal was not removed");
        Assert.True(File.Exists(Path.Combine(Server.Downloads, "goal2.bin")), "removal by a goal keeps the data");
    }

    [Fact]
    public async Task Remove_keeps_or_deletes_the_data_as_asked()
    {
        await using LoopbackSeed seed = await LoopbackSeed.StartAsync(Folder, "docs", 1 << 20, seed: 8, files: 2);
        long id = await DaemonApi.AddAsync(Api, seed.Torrent.ToBytes());
        await DaemonApi.WaitForStateAsync(Api, id, "seeding");
        string folder = Path.Combine(Server.Downloads, "docs");
        string mine = Path.Combine(folder, "my-notes.txt");
        await File.WriteAllTextAsync(mine, "not the torrent's");
        (HttpStatusCode status, JsonElement body) = await Api.PostAsync("api/v1/torrents/remove", new { ids = new[] { seed.Torrent.InfoHash.ToHex()[..8] }, delete_data = true });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(1, body.GetProperty("removed").GetInt32());
        Assert.False(File.Exists(Path.Combine(folder, "part0.bin")));
        Assert.False(File.Exists(Path.Combine(folder, "part1.bin")));
        Assert.True(File.Exists(mine), "a file the torrent does not name was deleted");
        Assert.Equal(HttpStatusCode.NotFound, (await Api.GetAsync($"api/v1/torrents/{id}")).Status);
    }

    [Fact]
    public async Task Bad_requests_get_clear_errors()
    {
        (_, byte[] valid) = (0, (await TestDaemon.MakeTorrentAsync(Folder, "x.bin", 40_000, 9)).Torrent.ToBytes());
        long id = await DaemonApi.AddAsync(Api, valid, new { paused = true });
        (HttpStatusCode dup, JsonElement why) = await Api.AddAsync(valid);
        Assert.Equal(HttpStatusCode.Conflict, dup);
        Assert.Contains("already", why.GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, (await Api.AddAsync([1, 2, 3])).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await Api.PostAsync("api/v1/torrents", new { uri = "magnet:?xt=urn:btih:nothex" })).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await Api.PostAsync("api/v1/torrents", "{not json")).Status);
        (HttpStatusCode outside, JsonElement forbidden) = await Api.AddAsync((await TestDaemon.MakeTorrentAsync(Folder, "y.bin", 40_000, 10)).Torrent.ToBytes(), new { save_path = "/etc" });
        Assert.Equal(HttpStatusCode.Forbidden, outside);
        Assert.Contains("outside", forbidden.GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await Api.GetAsync("api/v1/torrents/999")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Api.PostAsync($"api/v1/torrents/{id}/files/priority", new { files = new[] { 5 }, priority = "skip" })).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await Api.PostAsync($"api/v1/torrents/{id}/files/priority", new { files = new[] { 0 }, priority = "urgent" })).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await Api.PostAsync("api/v1/settings", new { no_such = 1 })).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await Api.PostAsync("api/v1/settings", new { default_save_path = "/tmp/elsewhere" })).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await Api.GetAsync("api/v1/torrents?state=sleeping")).Status);
    }

    [Fact]
    public async Task Categories_tags_and_settings_survive_a_restart_with_the_torrents()
    {
        byte[] metainfo = (await TestDaemon.MakeTorrentAsync(Folder, "keep.bin", 50_000, 11)).Torrent.ToBytes();
        string films = Path.Combine(Server.Downloads, "films");
        Assert.Equal(HttpStatusCode.OK, (await Api.PostAsync("api/v1/categories", new { name = "films", save_path = films })).Status);
        long id = await DaemonApi.AddAsync(Api, metainfo, new { paused = true, category = "films", tags = new[] { "hd", "new" } });
        await DaemonApi.SettingsAsync(Api, new { max_active_downloads = 7, ratio_limit = 1.5 });
        JsonElement row = await Api.TorrentAsync(id);
        Assert.Equal(films, row.GetProperty("save_path").GetString());

        await Server.RestartAsync();
        using ApiClient client = Server.Client();
        row = await client.TorrentAsync(id);
        Assert.Equal("paused", row.GetProperty("state").GetString());
        Assert.Equal("films", row.GetProperty("category").GetString());
        Assert.Equal(["hd", "new"], row.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        (_, JsonElement settings) = await client.GetAsync("api/v1/settings");
        Assert.Equal(7, settings.GetProperty("max_active_downloads").GetInt32());
        Assert.Equal(1.5, settings.GetProperty("ratio_limit").GetDouble());
        (_, JsonElement categories) = await client.GetAsync("api/v1/categories");
        Assert.Equal(films, categories[0].GetProperty("save_path").GetString());
    }

    [Fact]
    public async Task The_event_stream_reports_added_state_changes_and_finished()
    {
        await using LoopbackSeed seed = await LoopbackSeed.StartAsync(Folder, "events.bin", 1 << 20, seed: 12);
        using var stream = new CancellationTokenSource(DaemonApi.Patience);
        using HttpResponseMessage response = await Api.Http.GetAsync("api/v1/events", HttpCompletionOption.ResponseHeadersRead, stream.Token);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(stream.Token));
        long id = await DaemonApi.AddAsync(Api, seed.Torrent.ToBytes());
        var kinds = new List<string>();
        string? eventName = null;
        while (!kinds.Contains("finished"))
        {
            string? line = await reader.ReadLineAsync(stream.Token);
            Assert.NotNull(line);
            if (line.StartsWith("event: ", StringComparison.Ordinal)) eventName = line[7..];
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                using JsonDocument data = JsonDocument.Parse(line[6..]);
                if (eventName is not ("updated" or "settings_changed") && data.RootElement.GetProperty("torrent_id").GetInt64() == id) kinds.Add(eventName!);
            }
        }
        Assert.Equal("added", kinds[0]);
        Assert.Contains("state_changed", kinds);
    }
    [Fact]
    public async Task Resume_data_lives_in_the_database_and_a_restart_trusts_it_without_a_check()
    {
        await using LoopbackSeed seed = await LoopbackSeed.StartAsync(Folder, "kept.bin", 1 << 20, seed: 21);
        long id = await DaemonApi.AddAsync(Api, seed.Torrent.ToBytes());
        await DaemonApi.WaitForStateAsync(Api, id, "seeding");
        await Server.Host.DisposeAsync();
        string data = Server.Options.DataDirectory;
        using (StateStore store = StateStore.Open(Path.Combine(data, StateStore.FileName)))
        {
            StoredTorrent stored = Assert.Single(store.LoadTorrents());
            Assert.NotNull(stored.Resume);
            Assert.NotNull(Shoal.Storage.ResumeFile.TryParse(stored.Resume, seed.Torrent.InfoHash, out _));
        }
        Assert.False(Directory.Exists(Path.Combine(data, "resume")), "resume files were written beside the database");

        // A byte changed behind the daemon's back, the file's size and time kept: a check would find the piece bad;
        // the resume data from the database vouches for it instead, so the torrent seeds at once.
        string file = Path.Combine(Server.Downloads, "kept.bin");
        DateTime written = File.GetLastWriteTimeUtc(file);
        await using (var stream = new FileStream(file, FileMode.Open, FileAccess.ReadWrite))
        {
            stream.Position = 1000;
            int b = stream.ReadByte();
            stream.Position = 1000;
            stream.WriteByte((byte)(b ^ 0xFF));
        }
        File.SetLastWriteTimeUtc(file, written);
        await Server.RestartAsync();
        using ApiClient client = Server.Client();
        JsonElement row = await DaemonApi.WaitForStateAsync(client, id, "seeding");
        Assert.Equal(1.0, row.GetProperty("progress").GetDouble());
    }
}
