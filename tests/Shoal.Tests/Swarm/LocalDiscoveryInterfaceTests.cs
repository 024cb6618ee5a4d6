using System.Net;
using Shoal.Discovery;
using Shoal.Metainfo;
using Shoal.Swarm;
using Shoal.Tests.Discovery;

namespace Shoal.Tests.Swarm;

/// <summary>
/// Local discovery announces on the interface the session listens on: a session bound to one IPv4 address announces
/// there (where peers can reach that address), not on the machine's default interface.
/// </summary>
public sealed class LocalDiscoveryInterfaceTests : IDisposable
{
    private readonly LoopbackSessions _bed = new("shoal-lsd-interface-");

    public void Dispose() => _bed.Dispose();

    [MulticastLoopbackFact]
    public async Task A_session_bound_to_loopback_announces_on_loopback_without_being_told_the_interface()
    {
        LsdOptions group = MulticastLoopback.Lsd(MulticastLoopback.FreeUdpPort());
        await using var listener = new LsdListener(group);
        (Torrent torrent, string dir) = await _bed.CreateTorrentAsync("seed", 3, ("announced.bin", 2 * LoopbackSessions.PieceLength));
        // The group and port of the test, but no interface: the session picks it from its bind address (127.0.0.1).
        ShoalSession session = await _bed.StartAsync(o => o with { EnableLocalDiscovery = true, LocalDiscovery = group with { Ipv4Interface = null } });
        await session.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = dir });
        await listener.AssertAnnouncedAsync(new IPEndPoint(IPAddress.Loopback, session.ListenEndPoint.Port), torrent.InfoHash);
    }

    [Fact]
    public void The_interface_follows_one_bound_IPv4_address_and_given_options_keep_theirs()
    {
        var bound = new SessionOptions { BindAddress = IPAddress.Parse("192.0.2.7") };
        LsdOptions chosen = ShoalSession.LocalDiscoveryOn(bound);
        Assert.Equal(IPAddress.Parse("192.0.2.7"), chosen.Ipv4Interface);
        Assert.Null(chosen.Ipv6Group); // not listening on IPv6: nobody there could reach us

        LsdOptions any = ShoalSession.LocalDiscoveryOn(new SessionOptions { BindAddress = IPAddress.Any });
        Assert.Null(any.Ipv4Interface);
        Assert.NotNull(any.Ipv6Group);

        LsdOptions given = ShoalSession.LocalDiscoveryOn(bound with { LocalDiscovery = new LsdOptions { Ipv4Interface = IPAddress.Parse("192.0.2.9") } });
        Assert.Equal(IPAddress.Parse("192.0.2.9"), given.Ipv4Interface);
    }
}
