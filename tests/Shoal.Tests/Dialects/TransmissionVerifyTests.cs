using Shoal.Daemon.Service;
using Shoal.Tests.Daemon;
using Shoal.Tests.Interop;

namespace Shoal.Tests.Dialects;

/// <summary>torrent-verify of a stopped torrent, as Transmission does it: the data is checked and nothing more happens.</summary>
public sealed class TransmissionVerifyTests : IAsyncLifetime
{
    private readonly TempFolder _folder = new("shoal-tr-verify");
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

    [Fact]
    public async Task Verify_of_a_stopped_torrent_finds_a_spoiled_piece_and_leaves_it_stopped_without_downloading()
    {
        await using LoopbackSeed seed = await LoopbackSeed.StartAsync(_folder, "episode.mkv", 1 << 20, seed: 1606);
        string hash = seed.Torrent.InfoHash.ToHex();
        await _rpc.OkAsync("torrent-add", new { metainfo = Convert.ToBase64String(seed.Torrent.ToBytes()) });
        TorrentService service = _daemon.Host.Service;
        await Eventually.TrueAsync(() => service.Get(hash).State == TorrentActivity.Seeding, TimeSpan.FromSeconds(60), () => "not downloaded: " + service.Get(hash));
        long downloaded = service.Get(hash).Downloaded;

        await _rpc.OkAsync("torrent-stop", new { ids = new[] { hash } });
        await Eventually.TrueAsync(() => service.Get(hash).State == TorrentActivity.Paused, TimeSpan.FromSeconds(30), "not stopped");
        string file = Path.Combine(_daemon.Downloads, "episode.mkv");
        await using (var stream = new FileStream(file, FileMode.Open, FileAccess.ReadWrite))
        {
            stream.Position = 500_000;
            int old = stream.ReadByte();
            stream.Position--;
            stream.WriteByte((byte)(old ^ 0x55));
        }

        await _rpc.OkAsync("torrent-verify", new { ids = new[] { hash } });
        // One piece of 64 (16 KiB each) is bad: 63/64 verified, and it stays that way while the torrent is stopped.
        await Eventually.TrueAsync(() => service.Get(hash) is { State: TorrentActivity.Paused, DoneBytes: (1 << 20) - 16384 },
            TimeSpan.FromSeconds(60), () => "not checked: " + service.Get(hash));
        await Task.Delay(TimeSpan.FromSeconds(3));
        TorrentView stopped = service.Get(hash);
        Assert.Equal(TorrentActivity.Paused, stopped.State);
        Assert.Equal((1 << 20) - 16384, stopped.DoneBytes);
        Assert.Equal(downloaded, stopped.Downloaded);
        Assert.Empty(service.GetPeers(hash));
        Assert.Equal(0, (await _rpc.TorrentAsync(hash, "status")).GetProperty("status").GetInt32());

        // Started, it fetches the piece again.
        await _rpc.OkAsync("torrent-start", new { ids = new[] { hash } });
        await Eventually.TrueAsync(() => service.Get(hash) is { State: TorrentActivity.Seeding, DoneBytes: 1 << 20 }, TimeSpan.FromSeconds(60), () => "not whole again: " + service.Get(hash));
        TestContent.AssertSameTree(seed.Content, file);
    }
}
