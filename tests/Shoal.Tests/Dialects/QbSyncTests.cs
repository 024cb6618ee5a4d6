using System.Net;
using System.Text.Json;
using Shoal.Daemon.Service;
using Shoal.Metainfo;
using Shoal.Tests.Daemon;
using Shoal.Tests.Interop;

namespace Shoal.Tests.Dialects;

/// <summary>sync/maindata's full update and rid diffs, and sync/torrentPeers with a real peer on loopback.</summary>
public sealed class QbSyncTests : IAsyncLifetime
{
    private readonly TempFolder _folder = new("shoal-qb-sync");
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

    [Fact]
    public async Task Maindata_starts_full_then_sends_only_what_changed()
    {
        Torrent a = await DialectTorrents.TwoFilesAsync(_folder, seed: 21, name: "a");
        Torrent b = await DialectTorrents.TwoFilesAsync(_folder, seed: 22, name: "b");
        string hashA = a.InfoHash.ToHex(), hashB = b.InfoHash.ToHex();
        await _qb.AddAsync([("a.torrent", a.ToBytes())], ("paused", "true"), ("category", "old"), ("tags", "t1"));

        JsonElement full = await _qb.JsonAsync("sync/maindata");
        int rid = full.GetProperty("rid").GetInt32();
        Assert.True(full.GetProperty("full_update").GetBoolean());
        Assert.Equal(57, full.GetProperty("torrents").GetProperty(hashA).EnumerateObject().Count());
        Assert.Equal("stoppedDL", full.GetProperty("torrents").GetProperty(hashA).GetProperty("state").GetString());
        Assert.Equal("old", full.GetProperty("categories").GetProperty("old").GetProperty("name").GetString());
        Assert.Equal(["t1"], full.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal([hashA], full.GetProperty("trackers").GetProperty("udp://127.0.0.1:9/announce").EnumerateArray().Select(h => h.GetString()));
        JsonElement server = full.GetProperty("server_state");
        foreach (string key in new[] { "connection_status", "dl_info_speed", "up_info_data", "free_space_on_disk", "queueing", "use_alt_speed_limits", "refresh_interval", "alltime_dl" })
        {
            Assert.True(server.TryGetProperty(key, out _), $"server_state lacks {key}");
        }

        // Nothing changed: only the rid (and perhaps the free space) comes back.
        JsonElement same = await _qb.JsonAsync("sync/maindata?rid=" + rid);
        Assert.False(same.TryGetProperty("full_update", out _));
        Assert.False(same.TryGetProperty("torrents", out _));
        rid = same.GetProperty("rid").GetInt32();

        // A rename, a new torrent, a new category and tag, a deleted category: each shows as its change.
        await _qb.OkAsync("torrents/rename", ("hash", hashA), ("name", "A renamed"));
        await _qb.AddAsync([("b.torrent", b.ToBytes())], ("paused", "true"), ("tags", "t2"));
        await _qb.OkAsync("torrents/removeCategories", ("categories", "old"));
        JsonElement diff = await _qb.JsonAsync("sync/maindata?rid=" + rid);
        JsonElement changedA = diff.GetProperty("torrents").GetProperty(hashA);
        Assert.Equal("A renamed", changedA.GetProperty("name").GetString());
        Assert.Equal("", changedA.GetProperty("category").GetString());
        Assert.False(changedA.TryGetProperty("hash", out _)); // unchanged fields are left out
        Assert.Equal(57, diff.GetProperty("torrents").GetProperty(hashB).EnumerateObject().Count()); // new: whole
        Assert.Equal(["old"], diff.GetProperty("categories_removed").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal(["t2"], diff.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        int ridAfterDiff = diff.GetProperty("rid").GetInt32();

        // A removal shows in torrents_removed; a deleted tag in tags_removed.
        await _qb.OkAsync("torrents/delete", ("hashes", hashA), ("deleteFiles", "false"));
        await Eventually.TrueAsync(() => _daemon.Host.Service.List().Count == 1, TimeSpan.FromSeconds(30), "a not removed");
        await _qb.OkAsync("torrents/deleteTags", ("tags", "t1"));
        JsonElement removal = await _qb.JsonAsync("sync/maindata?rid=" + ridAfterDiff);
        Assert.Equal([hashA], removal.GetProperty("torrents_removed").EnumerateArray().Select(h => h.GetString()));
        Assert.Equal(["t1"], removal.GetProperty("tags_removed").EnumerateArray().Select(t => t.GetString()));

        // A rid the server does not know (another client's, or too old) gets a full update.
        JsonElement unknown = await _qb.JsonAsync("sync/maindata?rid=999");
        Assert.True(unknown.GetProperty("full_update").GetBoolean());
        Assert.Single(unknown.GetProperty("torrents").EnumerateObject());
    }

    [Fact]
    public async Task TorrentPeers_lists_a_real_peer_then_only_changes()
    {
        await using LoopbackSeed seed = await LoopbackSeed.StartAsync(_folder, "peers.bin", 4 << 20, seed: 23, uploadRate: 256 * 1024);
        string hash = seed.Torrent.InfoHash.ToHex();
        await _qb.AddAsync([("peers.torrent", seed.Torrent.ToBytes())]);
        JsonElement peers = default;
        await Eventually.TrueAsync(() =>
        {
            peers = _qb.JsonAsync($"sync/torrentPeers?hash={hash}").GetAwaiter().GetResult();
            // The engine publishes a peer as it joins (before its bitfield is in) and again every tick.
            return peers.GetProperty("peers").EnumerateObject().Any(p => p.Value.TryGetProperty("progress", out JsonElement progress) && progress.GetDouble() == 1.0);
        }, TimeSpan.FromSeconds(60), "no seed appeared", pollMilliseconds: 200);
        Assert.True(peers.GetProperty("full_update").GetBoolean());
        Assert.True(peers.GetProperty("show_flags").GetBoolean());
        JsonProperty peer = peers.GetProperty("peers").EnumerateObject().First();
        Assert.Equal("127.0.0.1", peer.Value.GetProperty("ip").GetString());
        Assert.Equal(seed.Session.ListenEndPoint.Port, peer.Value.GetProperty("port").GetInt32());
        // The daemon dials uTP first with TCP after a head start (as libtorrent does), so either may have won; the
        // connection name and the P flag must say the same.
        string connection = peer.Value.GetProperty("connection").GetString()!;
        Assert.Contains(connection, (string[])["μTP", "BT"]);
        Assert.Equal(connection == "μTP", peer.Value.GetProperty("flags").GetString()!.Contains('P', StringComparison.Ordinal));
        Assert.Equal(JsonValueKind.Number, peer.Value.GetProperty("dl_speed").ValueKind);
        Assert.Equal(1.0, peer.Value.GetProperty("progress").GetDouble());
        Assert.Equal(HttpStatusCode.NotFound, (await _qb.GetAsync("sync/torrentPeers?hash=0123456789012345678901234567890123456789")).Status);

        // The next answer to that rid is a diff: a pause (mid-download, the seed is capped) removes the peer.
        int rid = peers.GetProperty("rid").GetInt32();
        await _qb.OkAsync("torrents/stop", ("hashes", hash));
        await Eventually.TrueAsync(() => _daemon.Host.Service.Get(hash).State == TorrentActivity.Paused, TimeSpan.FromSeconds(30), "not paused");
        // The engine lets the peers go as it pauses: a client following the rids sees the peer removed in a diff.
        JsonElement after = default;
        await Eventually.TrueAsync(() =>
        {
            after = _qb.JsonAsync($"sync/torrentPeers?hash={hash}&rid={rid}").GetAwaiter().GetResult();
            Assert.False(after.TryGetProperty("full_update", out _), after.ToString());
            rid = after.GetProperty("rid").GetInt32();
            return after.TryGetProperty("peers_removed", out _);
        }, TimeSpan.FromSeconds(30), () => "the peer was never removed: " + after, pollMilliseconds: 200);
        Assert.Equal([peer.Name], after.GetProperty("peers_removed").EnumerateArray().Select(p => p.GetString()));
        Assert.Empty(_daemon.Host.Service.GetPeers(hash));
    }
}
