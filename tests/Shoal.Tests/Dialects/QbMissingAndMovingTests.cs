using System.Net;
using System.Text.Json;
using Shoal.Daemon.QBittorrent;
using Shoal.Daemon.Service;
using Shoal.Daemon.State;
using Shoal.Metainfo;
using Shoal.Tests.Daemon;
using Shoal.Tests.Interop;

namespace Shoal.Tests.Dialects;

/// <summary>qBittorrent's missingFiles and moving states: a torrent whose data is gone is held, not downloaded again behind the user's back.</summary>
public sealed class QbMissingAndMovingTests : IAsyncLifetime
{
    private readonly TempFolder _folder = new("shoal-qb-missing");
    private TestDaemon _daemon = null!;
    private QbClient _qb = null!;
    private TransmissionClient _rpc = null!;

    public async Task InitializeAsync()
    {
        _daemon = await TestDaemon.StartAsync(_folder);
        Connect();
    }

    private void Connect()
    {
        _qb = new QbClient(_daemon.Address);
        _rpc = new TransmissionClient(_daemon.Address);
    }

    public async Task DisposeAsync()
    {
        _qb.Dispose();
        _rpc.Dispose();
        await _daemon.DisposeAsync();
        _folder.Dispose();
    }

    private async Task<string> StateAsync(string hash) => (await _qb.TorrentAsync(hash)).GetProperty("state").GetString()!;

    private async Task<IReadOnlyList<string>> HashesAsync(string filter) =>
        [.. (await _qb.JsonAsync("torrents/info?filter=" + filter)).EnumerateArray().Select(t => t.GetProperty("hash").GetString()!)];

    [Fact]
    public async Task A_torrent_whose_data_is_gone_is_missingFiles_on_resume_and_after_a_restart_until_a_recheck_fetches_it_again()
    {
        await using LoopbackSeed seed = await LoopbackSeed.StartAsync(_folder, "film.mkv", 1 << 20, seed: 41);
        string hash = seed.Torrent.InfoHash.ToHex();
        Assert.Equal((HttpStatusCode.OK, "Ok."), await _qb.AddAsync([("film.torrent", seed.Torrent.ToBytes())]));
        TorrentService service = _daemon.Host.Service;
        await Eventually.TrueAsync(() => service.Get(hash).State == TorrentActivity.Seeding, TimeSpan.FromSeconds(60), () => "not downloaded: " + service.Get(hash));
        string file = Path.Combine(_daemon.Downloads, "film.mkv");

        // Stopped, its file deleted behind the daemon's back, started again: held, not downloaded again.
        await _qb.OkAsync("torrents/stop", ("hashes", hash));
        await Eventually.TrueAsync(() => service.Get(hash).State == TorrentActivity.Paused, TimeSpan.FromSeconds(30), "not stopped");
        File.Delete(file);
        await _qb.OkAsync("torrents/start", ("hashes", hash));
        await Eventually.TrueAsync(() => service.Get(hash).MissingFiles, TimeSpan.FromSeconds(30), () => "not held: " + service.Get(hash));
        Assert.Equal("missingFiles", await StateAsync(hash));
        Assert.Contains(hash, await HashesAsync("errored"));
        Assert.DoesNotContain(hash, await HashesAsync("downloading"));
        JsonElement tr = await _rpc.TorrentAsync(hash, "error", "errorString", "status");
        Assert.Equal(3, tr.GetProperty("error").GetInt32());
        Assert.Contains("missing", tr.GetProperty("errorString").GetString());
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.False(File.Exists(file));
        Assert.Empty(service.GetPeers(hash));

        // After a restart of the daemon it is still held.
        _qb.Dispose();
        _rpc.Dispose();
        await _daemon.RestartAsync();
        Connect();
        service = _daemon.Host.Service;
        await Eventually.TrueAsync(() => service.Get(hash).MissingFiles, TimeSpan.FromSeconds(30), () => "not held after a restart: " + service.Get(hash));
        Assert.Equal("missingFiles", await StateAsync(hash));
        Assert.False(File.Exists(file));

        // A recheck takes what is there (nothing), and the torrent fetches it again.
        await _qb.OkAsync("torrents/recheck", ("hashes", hash));
        await Eventually.TrueAsync(() => service.Get(hash) is { State: TorrentActivity.Seeding, DoneBytes: 1 << 20 }, TimeSpan.FromSeconds(60), () => "not fetched again: " + service.Get(hash));
        Assert.False(service.Get(hash).MissingFiles);
        Assert.Contains(await StateAsync(hash), new[] { "stalledUP", "uploading" });
        TestContent.AssertSameTree(seed.Content, file);
    }

    [Fact]
    public void Moving_and_missing_data_come_before_every_other_state_and_filter_as_qBittorrent_does()
    {
        var record = new TorrentRecord { InfoHash = new InfoHash(new byte[20]), Name = "n", SavePath = _folder.Path, RunMode = RunMode.Started };
        var t = new ServiceTorrent(record, TorrentTotals.Zero, null) { Activity = TorrentActivity.Downloading };
        Assert.Equal("stalledDL", QbTorrentRow.State(ViewFactory.Torrent(t)));
        t.Relocating = true;
        TorrentView moving = ViewFactory.Torrent(t);
        Assert.True(moving.Moving);
        Assert.Equal("moving", QbTorrentRow.State(moving));
        Assert.True(QbTorrentReads.Matches("moving", moving));
        Assert.False(QbTorrentReads.Matches("downloading", moving));
        t.Relocating = false;
        t.MissingFiles = true;
        t.Error = "the data is missing";
        t.Activity = TorrentActivity.Error;
        TorrentView missing = ViewFactory.Torrent(t);
        Assert.Equal("missingFiles", QbTorrentRow.State(missing));
        Assert.True(QbTorrentReads.Matches("errored", missing));
        Assert.False(QbTorrentReads.Matches("moving", missing));
    }
}
