using System.Net;
using Shoal.Daemon.Engine;
using Shoal.Daemon.Service;
using Shoal.Discovery;
using Shoal.Metainfo;
using Shoal.Swarm;
using Shoal.Tests.Discovery;
using Shoal.Tests.Swarm;

namespace Shoal.Tests.Daemon;

/// <summary>
/// The daemon's "lsd" setting, as Transmission's session-set (lpd-enabled) and qBittorrent's setPreferences (lsd)
/// change it, applied by the engine bridge to the running session: off, no announce; on, one at once. The daemon itself
/// announces on the LAN's group, so the bridge here drives a session whose group is on loopback (nothing leaves the
/// machine); the settings to bridge path is the daemon's own.
/// </summary>
public sealed class DaemonDiscoverySwitchTests : IDisposable
{
    private readonly LoopbackSessions _bed = new("shoal-daemon-lsd-");

    public void Dispose() => _bed.Dispose();

    [MulticastLoopbackFact]
    public async Task The_lsd_setting_turned_off_and_on_stops_and_restarts_the_running_sessions_announces()
    {
        LsdOptions lsd = MulticastLoopback.Lsd(MulticastLoopback.FreeUdpPort());
        await using var listener = new LsdListener(lsd);
        ShoalSession session = await _bed.StartAsync(o => o with { EnableLocalDiscovery = true, LocalDiscovery = lsd });
        var bridge = new EngineBridge(session, new DaemonResumeStore());
        var on = new DaemonSettings { Lsd = true };
        var off = on with { Lsd = false };
        var log = new List<string>();
        var us = new IPEndPoint(IPAddress.Loopback, session.ListenEndPoint.Port);
        (Torrent first, string firstDir) = await _bed.CreateTorrentAsync("first", 1, ("first.bin", LoopbackSessions.PieceLength));
        (Torrent second, string secondDir) = await _bed.CreateTorrentAsync("second", 2, ("second.bin", LoopbackSessions.PieceLength));
        await session.AddTorrentAsync(first, new TorrentOptions { DownloadDirectory = firstDir });
        await listener.AssertAnnouncedAsync(us, first.InfoHash);

        await bridge.ApplyNetwork(on, off, log.Add);
        Assert.False(session.LocalDiscoveryEnabled);
        await session.AddTorrentAsync(second, new TorrentOptions { DownloadDirectory = secondDir });
        await listener.AssertSilentAsync(TimeSpan.FromSeconds(1), "with lsd off");

        await bridge.ApplyNetwork(off, on, log.Add);
        Assert.True(session.LocalDiscoveryEnabled);
        await listener.AssertAnnouncedAsync(us, first.InfoHash, second.InfoHash);
        Assert.Empty(log);
    }
}
