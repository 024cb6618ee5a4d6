using Shoal.Dht;
using Shoal.Metainfo;
using Shoal.Swarm;
using Shoal.Transport.Encryption;

namespace Shoal.Tests.Swarm;

/// <summary>Network settings changed on a running session over real sockets on 127.0.0.1: connection limits, upload slots, encryption, the DHT.</summary>
public sealed class SessionSettingsTests : IDisposable
{
    private const int PieceLength = LoopbackSessions.PieceLength;
    private readonly LoopbackSessions _bed = new("shoal-settings-");

    public void Dispose() => _bed.Dispose();

    [Fact]
    public async Task Connection_limits_lowered_at_runtime_close_the_peers_past_them_per_torrent_and_per_session()
    {
        (Torrent torrent, string seedDir) = await CreateAsync();
        // A slow seed keeps its peers downloading (two seeds would part).
        ShoalSession seeder = await StartAsync(maxUpload: 8 * 1024);
        TorrentHandle seed = await seeder.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = seedDir });
        await seed.Completion.WaitAsync(TimeSpan.FromSeconds(60));
        for (int i = 0; i < 4; i++)
        {
            ShoalSession leecher = await StartAsync();
            await leecher.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = _bed.Combine("leech" + i), Peers = [seeder.ListenEndPoint] });
        }
        await Eventually.TrueAsync(() => seed.GetStatus().Peers == 4, TimeSpan.FromSeconds(60), () => $"peers: {seed.GetStatus().Peers}");

        // The torrent's own limit.
        await seed.SetConnectionLimitsAsync(maxConnections: 3, uploadSlots: 1);
        await Eventually.TrueAsync(() => seed.GetStatus().Peers <= 3, TimeSpan.FromSeconds(20), () => $"the torrent's limit was not applied: {seed.GetStatus().Peers}");

        // The session's: its per-torrent limit does not override the torrent's own, its global one does.
        await seeder.SetConnectionLimitsAsync(maxConnections: 2, maxConnectionsPerTorrent: 60);
        Assert.Equal((2, 60), (seeder.MaxConnections, seeder.MaxConnectionsPerTorrent));
        await Eventually.TrueAsync(() => seed.GetStatus().Peers <= 2, TimeSpan.FromSeconds(20), () => $"the session's limit was not applied: {seed.GetStatus().Peers}");
        // The closed peers dial again: refused, the limit holds.
        await Task.Delay(3000);
        Assert.True(seed.GetStatus().Peers <= 2 && seeder.Connections <= 2, $"{seed.GetStatus().Peers} peers, {seeder.Connections} connections");

        seeder.SetUploadSlots(2);
        Assert.Equal(2, seeder.UploadSlots);
    }

    [Fact]
    public async Task Encryption_required_at_runtime_refuses_a_plaintext_peer_and_the_dht_starts_and_stops()
    {
        (Torrent torrent, string seedDir) = await CreateAsync();
        ShoalSession seeder = await StartAsync(maxUpload: 8 * 1024);
        TorrentHandle seed = await seeder.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = seedDir });
        await seed.Completion.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(EncryptionMode.Prefer, seeder.Encryption);
        TorrentHandle before = await LeechAsync(torrent, seeder, EncryptionMode.Disable, "before");
        await Eventually.TrueAsync(() => before.GetStatus().Peers == 1, TimeSpan.FromSeconds(30), "a plaintext peer could not connect under prefer");

        seeder.SetEncryption(EncryptionMode.Require);
        TorrentHandle plain = await LeechAsync(torrent, seeder, EncryptionMode.Disable, "plain");
        TorrentHandle encrypted = await LeechAsync(torrent, seeder, EncryptionMode.Require, "encrypted");
        await Eventually.TrueAsync(() => encrypted.GetStatus().Peers == 1, TimeSpan.FromSeconds(30), "an encrypted peer could not connect under require");
        await Task.Delay(2000);
        Assert.Equal(0, plain.GetStatus().Peers);

        Assert.Null(seeder.Dht);
        await seeder.SetDhtEnabledAsync(true);
        Assert.NotNull(seeder.Dht);
        Assert.Equal(seeder.ListenEndPoint.Port, seeder.Dht!.LocalEndPoint!.Port);
        await seeder.SetDhtEnabledAsync(false);
        Assert.Null(seeder.Dht);
        await seeder.SetDhtEnabledAsync(true); // the UDP port is the session's: the node can come back
        Assert.NotNull(seeder.Dht);
    }

    private async Task<TorrentHandle> LeechAsync(Torrent torrent, ShoalSession seeder, EncryptionMode encryption, string name)
    {
        ShoalSession leecher = await StartAsync(encryption: encryption);
        return await leecher.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = _bed.Combine(name), Peers = [seeder.ListenEndPoint] });
    }

    private Task<(Torrent, string)> CreateAsync() => _bed.CreateTorrentAsync("seed", 3, ("data.bin", 32 * PieceLength));

    private Task<ShoalSession> StartAsync(long maxUpload = 0, EncryptionMode encryption = EncryptionMode.Prefer) => _bed.StartAsync(o => o with
    {
        MaxUploadRate = maxUpload,
        // No bootstrap: a DHT turned on at runtime talks to nobody outside this machine.
        Dht = new DhtNodeOptions { BootstrapNodes = [] },
        EnablePex = false,
        Encryption = encryption,
    });
}
