using System.Net;
using Shoal.Swarm;
using Shoal.Tests.Trackers;

namespace Shoal.Tests.Swarm;

public sealed class BanListTests
{
    private static readonly IPAddress Nat = IPAddress.Parse("203.0.113.7");
    private static readonly byte[] LiarId = "-XX0001-liarliarliar"u8.ToArray();
    private static readonly byte[] HonestId = "-XX0001-honesthonest"u8.ToArray();

    private static IPEndPoint At(int port) => new(Nat, port);

    [Fact]
    public void An_offence_bans_the_endpoint_and_the_peer_id_not_the_neighbours_on_the_address()
    {
        var bans = new BanList(new ManualTimeProvider());
        Assert.False(bans.Ban(At(6881), null, LiarId));

        Assert.True(bans.IsBanned(At(6881)));
        Assert.True(bans.IsBanned(At(6881), HonestId));
        Assert.True(bans.IsBanned(At(50_000), LiarId)); // the liar reconnecting from a new port is known by its id
        Assert.False(bans.IsBanned(At(6882)));           // a neighbour behind the same NAT
        Assert.False(bans.IsBanned(At(50_001), HonestId));
        Assert.False(bans.IsAddressBanned(Nat));
    }

    [Fact]
    public void The_listen_endpoint_of_an_incoming_offender_is_banned_too_so_it_is_not_dialled()
    {
        var bans = new BanList(new ManualTimeProvider());
        bans.Ban(At(40_123), At(6881), LiarId);
        Assert.True(bans.IsBanned(At(6881)));
        Assert.True(bans.IsBanned(At(40_123)));
    }

    [Fact]
    public void Offences_from_several_endpoints_of_one_address_ban_the_address()
    {
        var bans = new BanList(new ManualTimeProvider(), new BanListOptions { EndPointsBeforeAddressBan = 3 });
        Assert.False(bans.Ban(At(1), null, "-XX0001-aaaaaaaaaaaa"u8));
        Assert.False(bans.Ban(At(1), null, "-XX0001-bbbbbbbbbbbb"u8)); // the same endpoint again is not a new one
        Assert.False(bans.Ban(At(2), null, "-XX0001-cccccccccccc"u8));
        Assert.False(bans.IsBanned(At(9)));
        Assert.True(bans.Ban(At(3), null, "-XX0001-dddddddddddd"u8));
        Assert.True(bans.IsAddressBanned(Nat));
        Assert.True(bans.IsBanned(At(9), HonestId));
        Assert.False(bans.IsBanned(new IPEndPoint(IPAddress.Parse("203.0.113.8"), 1)));
    }

    [Fact]
    public void Bans_expire()
    {
        var time = new ManualTimeProvider();
        var bans = new BanList(time, new BanListOptions { Duration = TimeSpan.FromMinutes(30) });
        bans.Ban(At(6881), null, LiarId);
        time.Advance(TimeSpan.FromMinutes(29));
        Assert.True(bans.IsBanned(At(6881)));
        time.Advance(TimeSpan.FromMinutes(2));
        Assert.False(bans.IsBanned(At(6881)));
        Assert.False(bans.IsBanned(At(1), LiarId));
    }

    [Fact]
    public void Offences_towards_an_address_ban_expire_too()
    {
        var time = new ManualTimeProvider();
        var bans = new BanList(time, new BanListOptions { Duration = TimeSpan.FromMinutes(10), EndPointsBeforeAddressBan = 2 });
        bans.Ban(At(1), null, []);
        time.Advance(TimeSpan.FromMinutes(11));
        Assert.False(bans.Ban(At(2), null, [])); // the first offence is forgotten: one endpoint on record, not two
        Assert.False(bans.IsAddressBanned(Nat));
    }

    [Fact]
    public void The_list_is_bounded_and_drops_the_oldest_ban_first()
    {
        var time = new ManualTimeProvider();
        var bans = new BanList(time, new BanListOptions { Capacity = 8, EndPointsBeforeAddressBan = 1000 });
        for (int i = 0; i < 100; i++)
        {
            bans.Ban(new IPEndPoint(IPAddress.Parse($"198.51.100.{i % 250}"), 1000 + i), null, []);
            time.Advance(TimeSpan.FromSeconds(1));
            Assert.True(bans.Count <= 8);
        }
        Assert.True(bans.IsBanned(new IPEndPoint(IPAddress.Parse("198.51.100.99"), 1099)));
        Assert.False(bans.IsBanned(new IPEndPoint(IPAddress.Parse("198.51.100.0"), 1000)));
    }

    [Fact]
    public void An_ipv4_mapped_address_is_the_same_peer_as_its_ipv4_form()
    {
        var bans = new BanList(new ManualTimeProvider());
        bans.Ban(new IPEndPoint(Nat.MapToIPv6(), 6881), null, []);
        Assert.True(bans.IsBanned(At(6881)));
    }
}
