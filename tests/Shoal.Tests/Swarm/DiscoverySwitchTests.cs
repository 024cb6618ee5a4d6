using System.Net;
using Shoal.Discovery;
using Shoal.Metainfo;
using Shoal.Swarm;
using Shoal.Tests.Discovery;
using ManualTimeProvider = Shoal.Tests.Trackers.ManualTimeProvider;

namespace Shoal.Tests.Swarm;

/// <summary>
/// Peer exchange and local service discovery switched off and on again on a running session (as the native API,
/// Transmission's session-set and qBittorrent's setPreferences do): each switch takes effect at once, on the wire.
/// The session runs on its own virtual clock, so its PEX interval and its LSD announce interval pass in an instant.
/// </summary>
public sealed class DiscoverySwitchTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private readonly LoopbackSessions _bed = new("shoal-switches-");

    public void Dispose() => _bed.Dispose();

    [Fact]
    public async Task Pex_switched_off_at_runtime_sends_and_takes_nothing_and_switched_on_again_it_does_both()
    {
        var time = new ManualTimeProvider();
        (Torrent torrent, string seedDir) = await _bed.CreateTorrentAsync("seed", 1, ("pex.bin", 4 * LoopbackSessions.PieceLength));
        ShoalSession session = await _bed.StartAsync(o => o with { Time = time });
        TorrentHandle seed = await session.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = seedDir });
        await Eventually.TrueAsync(() => seed.GetStatus().State == TorrentState.Seeding, Patience, "the seed never started seeding");
        Assert.True(session.PexEnabled);

        using var firstListener = new CountingListener();
        using var secondListener = new CountingListener();
        using var canary = new CountingListener();
        await using RawPexPeer first = await RawPexPeer.ConnectAsync(session.ListenEndPoint, torrent, firstListener.EndPoint.Port);
        await using RawPexPeer observer = await RawPexPeer.ConnectAsync(session.ListenEndPoint, torrent, listenPort: null);

        // On: the next tick tells the observer of the first peer.
        time.Advance(SessionScheduler.TickInterval);
        await observer.SyncAsync();
        PexMessage told = Assert.Single(observer.PexReceived);
        Assert.Equal([firstListener.EndPoint], told.Added.Select(p => p.EndPoint));

        // Off. A second peer joins, and a full PEX interval passes: the observer hears nothing of it.
        session.SetPexEnabled(false);
        Assert.False(session.PexEnabled);
        await using RawPexPeer second = await RawPexPeer.ConnectAsync(session.ListenEndPoint, torrent, secondListener.EndPoint.Port);
        await second.SyncAsync(); // its listen port is known to the session
        // What a peer tells us while PEX is off is not used either: the canary it names is never dialled.
        await first.SendPexAsync(canary.EndPoint);
        await first.SyncAsync(); // handled before the ticks below
        await AdvanceAsync(time, PexTracker.MinInterval + TimeSpan.FromSeconds(2), observer, first, second);
        Assert.Single(observer.PexReceived);
        await Task.Delay(500); // a dial to the canary (loopback) would be in its backlog by now
        Assert.Equal(0, canary.Accepted);

        // On again: the very next tick tells the observer what changed while it was off.
        session.SetPexEnabled(true);
        Assert.True(session.PexEnabled);
        time.Advance(SessionScheduler.TickInterval);
        await observer.SyncAsync();
        Assert.Equal(2, observer.PexReceived.Count);
        Assert.Equal([secondListener.EndPoint], observer.PexReceived[1].Added.Select(p => p.EndPoint));
        Assert.Empty(observer.PexReceived[1].Dropped);
        // And what peers tell us is used again: the canary, named by the second peer, is dialled.
        await second.SendPexAsync(canary.EndPoint);
        await second.SyncAsync();
        await Eventually.TrueAsync(() =>
        {
            time.Advance(SessionScheduler.TickInterval);
            return canary.Accepted > 0;
        }, Patience, "the address a peer gave after PEX was switched on again was never dialled", pollMilliseconds: 100);
    }

    [MulticastLoopbackFact]
    public async Task Local_discovery_switched_off_at_runtime_announces_nothing_and_switched_on_again_announces_at_once_and_every_interval()
    {
        var time = new ManualTimeProvider();
        LsdOptions lsd = MulticastLoopback.Lsd(MulticastLoopback.FreeUdpPort(), time);
        await using var listener = new LsdListener(lsd);
        (Torrent firstTorrent, string firstDir) = await _bed.CreateTorrentAsync("first", 1, ("first.bin", 2 * LoopbackSessions.PieceLength));
        (Torrent secondTorrent, string secondDir) = await _bed.CreateTorrentAsync("second", 2, ("second.bin", 2 * LoopbackSessions.PieceLength));
        ShoalSession session = await _bed.StartAsync(o => o with { Time = time, EnableLocalDiscovery = true, LocalDiscovery = lsd });
        Assert.True(session.LocalDiscoveryEnabled);
        var us = new IPEndPoint(IPAddress.Loopback, session.ListenEndPoint.Port);

        // On: a torrent added is announced at once.
        await session.AddTorrentAsync(firstTorrent, new TorrentOptions { DownloadDirectory = firstDir });
        await listener.AssertAnnouncedAsync(us, firstTorrent.InfoHash);
        await WaitForAnnounceTimerAsync(time);

        // Off: neither a torrent added nor the announce interval passing sends anything.
        Assert.True(await session.SetLocalDiscoveryEnabledAsync(false));
        Assert.False(session.LocalDiscoveryEnabled);
        await session.AddTorrentAsync(secondTorrent, new TorrentOptions { DownloadDirectory = secondDir });
        time.Advance(TimeSpan.FromMinutes(6));
        await listener.AssertSilentAsync(TimeSpan.FromSeconds(1), "while off");

        // On again: both torrents are announced at once, then again every interval.
        Assert.True(await session.SetLocalDiscoveryEnabledAsync(true));
        Assert.True(session.LocalDiscoveryEnabled);
        await listener.AssertAnnouncedAsync(us, firstTorrent.InfoHash, secondTorrent.InfoHash);
        await listener.AssertSilentAsync(TimeSpan.FromMilliseconds(500), "twice on switching on");
        await WaitForAnnounceTimerAsync(time);
        time.Advance(TimeSpan.FromMinutes(5));
        await listener.AssertAnnouncedAsync(us, firstTorrent.InfoHash, secondTorrent.InfoHash);
    }

    /// <summary>Waits until the session's announce loop sleeps on the virtual clock (five minutes from now), so advancing it wakes the loop.</summary>
    private static Task WaitForAnnounceTimerAsync(ManualTimeProvider time) =>
        Eventually.TrueAsync(() => time.PendingDueTimes().Contains(time.GetUtcNow() + TimeSpan.FromMinutes(5)), Patience, "the announce loop never waited for its interval");

    /// <summary>
    /// Moves the session's clock on tick by tick, each tick handled (a round trip through <paramref name="sync"/>) before
    /// the next, so whatever a tick starts (a dial) starts before the clock jumps on; the peers keep their connections alive.
    /// </summary>
    private static async Task AdvanceAsync(ManualTimeProvider time, TimeSpan by, RawPexPeer sync, params RawPexPeer[] others)
    {
        foreach (RawPexPeer peer in others.Append(sync)) await peer.KeepAliveAsync();
        for (TimeSpan passed = TimeSpan.Zero; passed < by; passed += SessionScheduler.TickInterval)
        {
            time.Advance(SessionScheduler.TickInterval);
            await sync.SyncAsync();
        }
    }
}
