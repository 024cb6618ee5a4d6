using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Shoal.Metainfo;
using Shoal.Swarm;
using Shoal.Tests.Dialects;
using Shoal.Tests.Interop;
using Shoal.Tests.Swarm;
using Shoal.Transport.Encryption;

namespace Shoal.Tests.Daemon;

/// <summary>
/// Network settings changed over real HTTP take effect in the running daemon, without a restart: connection limits,
/// the DHT node, encryption, peer exchange. The peers are Shoal sessions on 127.0.0.1 (raw wire peers for PEX).
/// </summary>
public sealed class DaemonRuntimeSettingsTests : IAsyncLifetime
{
    private readonly TempFolder _folder = new("shoal-daemon-settings");
    private readonly List<ShoalSession> _peers = [];
    private TestDaemon _daemon = null!;
    private ApiClient _client = null!;

    public async Task InitializeAsync()
    {
        // The DHT's bootstrap is a loopback port nobody answers on: nothing leaves 127.0.0.1.
        _daemon = await TestDaemon.StartAsync(_folder, o => o with { DhtBootstrap = ["127.0.0.1:9"] });
        _client = _daemon.Client();
        Assert.Equal(HttpStatusCode.OK, await _client.FetchCsrfAsync());
    }

    public async Task DisposeAsync()
    {
        foreach (ShoalSession peer in _peers) await peer.DisposeAsync();
        _client.Dispose();
        await _daemon.DisposeAsync();
        _folder.Dispose();
    }

    [Fact]
    public async Task Lowering_the_connection_limit_closes_connections_and_refuses_new_ones()
    {
        (long id, Torrent torrent) = await SeedInDaemonAsync("limits.bin");
        // Slow uploads keep the peers downloading (two seeds would part); without PEX the peers know only the daemon.
        await DaemonApi.SettingsAsync(_client, new { upload_limit = 4096, pex = false });
        for (int i = 0; i < 4; i++) await LeechAsync(torrent, EncryptionMode.Prefer);
        await WaitForPeersAsync(id, n => n == 4, "four peers never connected");

        await DaemonApi.SettingsAsync(_client, new { max_connections_per_torrent = 2 });
        await WaitForPeersAsync(id, n => n <= 2, "the connections past the new limit stayed open");
        // The closed peers dial again, and a new one arrives: the limit holds.
        await LeechAsync(torrent, EncryptionMode.Prefer);
        await Task.Delay(3000);
        Assert.True(await PeersAsync(id) <= 2, $"the limit was not kept: {await PeersAsync(id)} peers");

        // Raised again over the qBittorrent API: a newcomer gets in.
        using var qb = new QbClient(_daemon.Address);
        await qb.OkAsync("app/setPreferences", ("json", JsonSerializer.Serialize(new { max_connec_per_torrent = 10 })));
        await LeechAsync(torrent, EncryptionMode.Prefer);
        await WaitForPeersAsync(id, n => n >= 3, "the raised limit let nobody in");
    }

    [Fact]
    public async Task Turning_the_dht_on_and_off_starts_and_stops_the_node_on_the_peer_port()
    {
        Assert.False(await AnswersDhtPingAsync(), "the DHT answered while off");
        using var rpc = new TransmissionClient(_daemon.Address);
        await rpc.OkAsync("session-set", new Dictionary<string, object> { ["dht-enabled"] = true });
        await Eventually.TrueAsync(() => AnswersDhtPingAsync().GetAwaiter().GetResult(), TimeSpan.FromSeconds(30), "the DHT did not start");
        Assert.True((await rpc.OkAsync("session-get", new { fields = new[] { "dht-enabled" } })).GetProperty("dht-enabled").GetBoolean());

        await DaemonApi.SettingsAsync(_client, new { dht = false });
        await Eventually.TrueAsync(() => !AnswersDhtPingAsync().GetAwaiter().GetResult(), TimeSpan.FromSeconds(30), "the DHT kept answering after it was turned off");
    }

    [Fact]
    public async Task Requiring_encryption_refuses_a_plaintext_peer_afterwards_and_accepts_an_encrypted_one()
    {
        (long id, Torrent torrent) = await SeedInDaemonAsync("secret.bin");
        await DaemonApi.SettingsAsync(_client, new { upload_limit = 4096, pex = false });
        TorrentHandle plain = await LeechAsync(torrent, EncryptionMode.Disable);
        await Eventually.TrueAsync(() => plain.GetStatus().Peers == 1, DaemonApi.Patience, "a plaintext peer could not connect under 'prefer'");

        using var rpc = new TransmissionClient(_daemon.Address);
        await rpc.OkAsync("session-set", new { encryption = "required" });
        Assert.Equal("required", (await rpc.OkAsync("session-get", new { fields = new[] { "encryption" } })).GetProperty("encryption").GetString());
        TorrentHandle refused = await LeechAsync(torrent, EncryptionMode.Disable);
        TorrentHandle encrypted = await LeechAsync(torrent, EncryptionMode.Require);
        await Eventually.TrueAsync(() => encrypted.GetStatus().Peers == 1, DaemonApi.Patience, "an encrypted peer could not connect under 'require'");
        await Task.Delay(2000);
        Assert.Equal(0, refused.GetStatus().Peers);
        Assert.Equal(2, await PeersAsync(id)); // the plaintext peer connected before stays
    }

    [Fact]
    public async Task Pex_turned_off_over_transmission_or_the_native_api_tells_a_new_peer_nothing_and_turned_on_over_qbittorrent_tells_it_at_once()
    {
        (_, Torrent torrent) = await SeedInDaemonAsync("pex.bin");
        var daemon = new IPEndPoint(IPAddress.Loopback, _daemon.Host.PeerPort);
        using var rpc = new TransmissionClient(_daemon.Address);
        await rpc.OkAsync("session-set", new Dictionary<string, object> { ["pex-enabled"] = false });
        Assert.False((await rpc.OkAsync("session-get", new { fields = new[] { "pex-enabled" } })).GetProperty("pex-enabled").GetBoolean());
        await Task.Delay(500); // the running session is switched in the background

        // A peer with a listen port, then one that listens for PEX: the daemon ticks every half second, and with PEX
        // on its first tick would tell the second of the first.
        using var listening = new CountingListener();
        await using RawPexPeer first = await RawPexPeer.ConnectAsync(daemon, torrent, listening.EndPoint.Port);
        await using RawPexPeer observer = await RawPexPeer.ConnectAsync(daemon, torrent, listenPort: null);
        await Task.Delay(2000);
        await observer.SyncAsync();
        Assert.Empty(observer.PexReceived);

        using var qb = new QbClient(_daemon.Address);
        await qb.OkAsync("app/setPreferences", ("json", JsonSerializer.Serialize(new { pex = true })));
        await Eventually.TrueAsync(() => observer.PexReceived.Count > 0, DaemonApi.Patience, "PEX turned on again told the peer nothing");
        Assert.Equal([listening.EndPoint], observer.PexReceived[0].Added.Select(p => p.EndPoint));

        // Off again over the native API: a newcomer hears nothing either.
        await DaemonApi.SettingsAsync(_client, new { pex = false });
        await Task.Delay(500);
        await using RawPexPeer newcomer = await RawPexPeer.ConnectAsync(daemon, torrent, listenPort: null);
        await Task.Delay(2000);
        await newcomer.SyncAsync();
        Assert.Empty(newcomer.PexReceived);
    }

    private async Task<(long Id, Torrent Torrent)> SeedInDaemonAsync(string name)
    {
        (Torrent torrent, _) = await TestDaemon.MakeTorrentAsync(_folder, name, 2 << 20, seed: name.Length, into: _daemon.Downloads);
        long id = await DaemonApi.AddAsync(_client, torrent.ToBytes());
        await DaemonApi.WaitForStateAsync(_client, id, "seeding");
        return (id, torrent);
    }

    private async Task<TorrentHandle> LeechAsync(Torrent torrent, EncryptionMode encryption)
    {
        ShoalSession peer = await ShoalSession.StartAsync(new SessionOptions
        {
            BindAddress = IPAddress.Loopback,
            ListenPort = 0,
            EnableDht = false,
            EnableLocalDiscovery = false,
            EnablePortMapping = false,
            Encryption = encryption,
        });
        _peers.Add(peer);
        return await peer.AddTorrentAsync(torrent, new TorrentOptions
        {
            DownloadDirectory = _folder.Combine("peer" + _peers.Count),
            Peers = [new IPEndPoint(IPAddress.Loopback, _daemon.Host.PeerPort)],
        });
    }

    private async Task<int> PeersAsync(long id) => (await _client.TorrentAsync(id)).GetProperty("peers").GetInt32();

    private async Task WaitForPeersAsync(long id, Func<int, bool> done, string failure)
    {
        int last = -1;
        DateTime deadline = DateTime.UtcNow + DaemonApi.Patience;
        while (!done(last = await PeersAsync(id)))
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"{failure} ({last} peers)");
            await Task.Delay(200);
        }
    }

    /// <summary>Sends a KRPC ping (BEP 5) to the daemon's peer port; true when a KRPC answer comes back within two seconds.</summary>
    private async Task<bool> AnswersDhtPingAsync()
    {
        using var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        byte[] ping = Encoding.ASCII.GetBytes("d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe");
        await udp.SendAsync(ping, new IPEndPoint(IPAddress.Loopback, _daemon.Host.PeerPort));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            UdpReceiveResult answer = await udp.ReceiveAsync(timeout.Token);
            return answer.Buffer.Length > 0 && answer.Buffer[0] == (byte)'d';
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
