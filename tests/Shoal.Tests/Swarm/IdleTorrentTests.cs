using System.Net;
using System.Security.Cryptography;
using Shoal.Metainfo;
using Shoal.Swarm;
using Shoal.Tests.Trackers;

namespace Shoal.Tests.Swarm;

/// <summary>A torrent with nothing to do costs nothing: the session's scheduler does not visit it.</summary>
public sealed class IdleTorrentTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("shoal-idle-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task A_seed_with_no_peers_is_not_ticked_and_one_with_a_peer_is()
    {
        string content = Path.Combine(_root, "seed", "idle.bin");
        Directory.CreateDirectory(Path.GetDirectoryName(content)!);
        await File.WriteAllBytesAsync(content, RandomNumberGenerator.GetBytes(300_000));
        Torrent torrent = await TorrentCreator.CreateAsync(content, new TorrentCreationOptions { PieceLength = 32 * 1024 });

        var time = new ManualTimeProvider();
        await using ShoalSession session = await ShoalSession.StartAsync(new SessionOptions
        {
            ListenPort = 0,
            BindAddress = IPAddress.Loopback,
            EnableDht = false,
            EnableLocalDiscovery = false,
            Time = time,
        });
        TorrentHandle seed = await session.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = Path.Combine(_root, "seed") });
        await Eventually.TrueAsync(() => seed.GetStatus().State == TorrentState.Seeding, TimeSpan.FromSeconds(20), "the seed never started seeding");
        SessionScheduler scheduler = session.Scheduler;
        // Its first tick finds nothing to do (no peer, nobody to dial) and takes it off the tick list.
        time.Advance(TimeSpan.FromMilliseconds(500));
        await Eventually.TrueAsync(() => scheduler.ActiveCount == 0, TimeSpan.FromSeconds(10), "the idle seed is still on the tick list");

        // Ten minutes of the session's clock: not one tick for a seed nobody talks to.
        long before = scheduler.TicksPosted;
        for (int i = 0; i < 1200; i++) time.Advance(TimeSpan.FromMilliseconds(500));
        Assert.Equal(before, scheduler.TicksPosted);

        // A peer connects: the torrent has work again and is ticked.
        using var client = new System.Net.Sockets.TcpClient();
        await client.ConnectAsync(session.ListenEndPoint);
        var handshake = new Shoal.Wire.Handshake(torrent.InfoHash, Reliability.FaultyConnection.NewPeerId(), Shoal.Wire.ReservedBits.Create(extension: false, fast: true, dht: false));
        byte[] bytes = new byte[Shoal.Wire.Handshake.Length];
        handshake.WriteTo(bytes);
        await client.GetStream().WriteAsync(bytes);
        await Eventually.TrueAsync(() => seed.GetPeers().Count == 1, TimeSpan.FromSeconds(10), "the peer never joined");
        Assert.Equal(1, scheduler.ActiveCount);
        long withPeer = scheduler.TicksPosted;
        for (int i = 0; i < 4; i++) time.Advance(TimeSpan.FromMilliseconds(500));
        Assert.True(scheduler.TicksPosted >= withPeer + 4, $"{scheduler.TicksPosted - withPeer} ticks in 2 s with a peer");
    }
}
