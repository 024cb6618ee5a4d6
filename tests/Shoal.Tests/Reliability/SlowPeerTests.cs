using System.Net;
using Shoal.Swarm;
using Shoal.Wire;
using Xunit.Abstractions;

namespace Shoal.Tests.Reliability;

/// <summary>
/// Slowloris peers against a seeder (issue 13, item 2): connections that handshake, say INTERESTED, then send one byte
/// every 10 s, so they are never silent and never useful. An honest leecher that arrives during the attack must still
/// get in and finish.
/// </summary>
[Collection(ReliabilityCollection.Name)]
public sealed class SlowPeerTests(ITestOutputHelper output)
{
    private const int KiB = 1024;
    private static readonly TimeSpan Bounded = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task SlowlorisFromOneAddressCannotTakeEverySlotAndAnHonestLeecherCompletes()
    {
        await using FaultHarness h = await FaultHarness.CreateAsync(output, 2 * 1024 * KiB, 64 * KiB, seed: 201);
        (ShoalSession seeder, TorrentHandle seed) = await h.StartSeederAsync();
        IPAddress attacker = IPAddress.Parse("127.0.0.2");

        await using var attack = new Slowloris(h, seeder.ListenEndPoint);
        await attack.StartAsync(Enumerable.Repeat(attacker, 70));
        // 70 tried; the seeder holds what it admitted (before the fix: all 60 slots of the torrent).
        await Task.Delay(1000);
        int admitted = seed.GetPeers().Count(p => p.EndPoint.Address.Equals(attacker));
        output.WriteLine($"{attack.Handshaken} of 70 slow connections got through the handshake; the seeder keeps {admitted}");

        Leecher honest = await h.StartLeecherAsync(seeder.ListenEndPoint);
        await h.AssertCompletesAsync(honest, Bounded);
        Assert.True(seed.GetPeers().Count(p => p.EndPoint.Address.Equals(attacker)) <= new SessionOptions().MaxConnectionsPerAddress,
            "one address holds more connections than the per-address limit");
        Assert.True(h.LogContains("seeder", "too many connections from 127.0.0.2") || h.LogContains("seeder", "too many handshakes from 127.0.0.2"),
            "no connection from the slow address was refused");
    }

    [Fact]
    public async Task WhenSlowPeersFromManyAddressesFillTheTorrentAnHonestNewcomerReplacesOneOfThem()
    {
        await using FaultHarness h = await FaultHarness.CreateAsync(output, 2 * 1024 * KiB, 64 * KiB, seed: 202);
        // Slow peers become replaceable after 3 s without payload here (60 s by default).
        ShoalSession seeder = await h.StartSessionAsync("seeder", options => options with { ReplaceIdlePeersAfter = TimeSpan.FromSeconds(3) });
        TorrentHandle seed = await seeder.AddTorrentAsync(h.Torrent, new TorrentOptions { DownloadDirectory = h.SeedDirectory });
        await FaultHarness.WaitUntilAsync(() => seed.GetStatus().State == TorrentState.Seeding, TimeSpan.FromSeconds(10), "seeder did not start");

        // 8 addresses x 8 connections: more than the torrent's 60 slots, none over the per-address limit.
        await using var attack = new Slowloris(h, seeder.ListenEndPoint);
        await attack.StartAsync(Enumerable.Range(2, 8).SelectMany(i => Enumerable.Repeat(IPAddress.Parse($"127.0.0.{i}"), 8)));
        await FaultHarness.WaitUntilAsync(() => seed.GetPeers().Count == new SessionOptions().MaxConnectionsPerTorrent, TimeSpan.FromSeconds(20),
            "the slow peers did not fill the torrent");
        await Task.Delay(TimeSpan.FromSeconds(4)); // past the time a slot must go without payload before it can be taken

        Leecher honest = await h.StartLeecherAsync(seeder.ListenEndPoint);
        await h.AssertCompletesAsync(honest, Bounded);
        await h.WaitForLogAsync(TimeSpan.FromSeconds(5), "seeder", "replaced by a newcomer");
        Assert.True(seed.GetPeers().Count <= new SessionOptions().MaxConnectionsPerTorrent);
    }

    /// <summary>Slow connections: handshake, INTERESTED, then a single zero byte every 10 s (never reading).</summary>
    private sealed class Slowloris(FaultHarness h, IPEndPoint target) : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly List<FaultyConnection> _connections = [];
        private readonly List<Task> _dribbles = [];
        private int _handshaken;

        public int Handshaken => Volatile.Read(ref _handshaken);

        public async Task StartAsync(IEnumerable<IPAddress> sources)
        {
            await Task.WhenAll(sources.Select(async source =>
            {
                try
                {
                    FaultyConnection c = await FaultyConnection.ConnectAsync(source, target, h.Torrent.InfoHash, h.Torrent.PieceCount, _stop.Token);
                    lock (_connections) _connections.Add(c);
                    await c.InitiateHandshakeAsync(_stop.Token);
                    await c.SendAsync(PeerMessageWriter.WriteInterested, _stop.Token);
                    Interlocked.Increment(ref _handshaken);
                    lock (_dribbles) _dribbles.Add(DribbleAsync(c));
                }
                catch (Exception ex) when (FaultyConnection.IsDisconnect(ex))
                {
                    // Refused: that is the defence working.
                }
            }));
        }

        private async Task DribbleAsync(FaultyConnection c)
        {
            try
            {
                while (true)
                {
                    await Task.Delay(TimeSpan.FromSeconds(10), _stop.Token);
                    await c.SendAsync(w => { w.GetSpan(1)[0] = 0; w.Advance(1); }, _stop.Token);
                }
            }
            catch (Exception ex) when (FaultyConnection.IsDisconnect(ex))
            {
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            Task[] dribbles;
            lock (_dribbles) dribbles = [.. _dribbles];
            await Task.WhenAll(dribbles);
            foreach (FaultyConnection c in _connections) await c.DisposeAsync();
            _stop.Dispose();
        }
    }
}
