using System.Net;
using System.Text.Json;
using Shoal.Daemon.Service;
using Shoal.Metainfo;
using Shoal.Tests.Daemon;
using Shoal.Tests.Interop;

namespace Shoal.Tests.Dialects;

/// <summary>qBittorrent's first-and-last-piece priority over real HTTP: set on add, toggled, read back, kept across a restart.</summary>
public sealed class QbFirstLastPieceTests : IAsyncLifetime
{
    private readonly TempFolder _folder = new("shoal-qb-firstlast");
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

    private async Task<bool> FlagAsync(string hash) => (await _qb.TorrentAsync(hash)).GetProperty("f_l_piece_prio").GetBoolean();

    [Fact]
    public async Task Added_with_firstLastPiecePrio_toggled_read_back_in_info_and_sync_and_kept_across_a_restart()
    {
        Torrent withFlag = await DialectTorrents.TwoFilesAsync(_folder, seed: 31);
        Torrent without = await DialectTorrents.TwoFilesAsync(_folder, seed: 32);
        string a = withFlag.InfoHash.ToHex(), b = without.InfoHash.ToHex();
        Assert.Equal((HttpStatusCode.OK, "Ok."), await _qb.AddAsync([("a.torrent", withFlag.ToBytes())], ("stopped", "true"), ("firstLastPiecePrio", "true")));
        Assert.Equal((HttpStatusCode.OK, "Ok."), await _qb.AddAsync([("b.torrent", without.ToBytes())], ("stopped", "true")));
        Assert.True(await FlagAsync(a));
        Assert.False(await FlagAsync(b));
        Assert.True(_daemon.Host.Service.Get(a).FirstLastPiecePriority);
        Assert.True(_daemon.Host.Service.GetSettings(a).FirstLastPiecePriority);

        JsonElement full = await _qb.JsonAsync("sync/maindata");
        Assert.True(full.GetProperty("torrents").GetProperty(a).GetProperty("f_l_piece_prio").GetBoolean());
        Assert.False(full.GetProperty("torrents").GetProperty(b).GetProperty("f_l_piece_prio").GetBoolean());
        long rid = full.GetProperty("rid").GetInt64();

        // Each torrent flips on its own, as qBittorrent does.
        await _qb.OkAsync("torrents/toggleFirstLastPiecePrio", ("hashes", $"{a}|{b}"));
        Assert.False(await FlagAsync(a));
        Assert.True(await FlagAsync(b));
        JsonElement diff = await _qb.JsonAsync("sync/maindata?rid=" + rid);
        Assert.False(diff.GetProperty("torrents").GetProperty(a).GetProperty("f_l_piece_prio").GetBoolean());
        Assert.True(diff.GetProperty("torrents").GetProperty(b).GetProperty("f_l_piece_prio").GetBoolean());
        await _qb.OkAsync("torrents/toggleFirstLastPiecePrio", ("hashes", new string('0', 40))); // unknown hashes are left out, as qBittorrent
        Assert.False(await FlagAsync(a));

        await _daemon.RestartAsync();
        _qb.Dispose();
        _qb = new QbClient(_daemon.Address);
        Assert.False(await FlagAsync(a));
        Assert.True(await FlagAsync(b));
        await _qb.OkAsync("torrents/toggleFirstLastPiecePrio", ("hashes", "all"));
        Assert.True(await FlagAsync(a));
        Assert.False(await FlagAsync(b));
    }

    [Fact]
    public async Task A_running_torrent_downloads_whole_with_the_flag_and_takes_a_toggle_while_it_runs()
    {
        await using LoopbackSeed seed = await LoopbackSeed.StartAsync(_folder, "show.mkv", 4 << 20, seed: 33, uploadRate: 512 << 10);
        string hash = seed.Torrent.InfoHash.ToHex();
        Assert.Equal((HttpStatusCode.OK, "Ok."), await _qb.AddAsync([("show.torrent", seed.Torrent.ToBytes())], ("firstLastPiecePrio", "true")));
        TorrentService service = _daemon.Host.Service;
        await Eventually.TrueAsync(() => service.Get(hash) is { State: TorrentActivity.Downloading, DoneBytes: > 0 }, TimeSpan.FromSeconds(60), () => "not downloading: " + service.Get(hash));
        await _qb.OkAsync("torrents/toggleFirstLastPiecePrio", ("hashes", hash));
        await _qb.OkAsync("torrents/toggleFirstLastPiecePrio", ("hashes", hash));
        await Eventually.TrueAsync(() => service.Get(hash).State == TorrentActivity.Seeding, TimeSpan.FromSeconds(60), () => "not downloaded: " + service.Get(hash));
        Assert.True(await FlagAsync(hash));
        TestContent.AssertSameTree(seed.Content, Path.Combine(_daemon.Downloads, "show.mkv"));
    }
}
