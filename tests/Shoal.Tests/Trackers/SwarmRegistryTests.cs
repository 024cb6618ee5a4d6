using System.Net;
using Shoal.Metainfo;
using Shoal.Trackers;
using Shoal.Trackers.Server;
using static Shoal.Tests.Trackers.TrackerTestKit;

namespace Shoal.Tests.Trackers;

public sealed class SwarmRegistryTests
{
    private static PeerAnnounce Peer(InfoHash hash, string address, int port, long left = 100, AnnounceEvent evt = AnnounceEvent.None, int numWant = -1) =>
        new(hash, PeerId((char)('a' + (port % 26))), IPAddress.Parse(address), port, 0, 0, left, evt, numWant);

    private static (AnnounceOutcome Outcome, SwarmPeer[] Peers) Announce(SwarmRegistry registry, PeerAnnounce request, PeerFamilies families = PeerFamilies.Both)
    {
        var buffer = new SwarmPeer[registry.Options.MaxNumWant];
        AnnounceOutcome outcome = registry.Announce(request, families, buffer);
        return (outcome, buffer[..outcome.PeerCount]);
    }

    [Fact]
    public void PeersSeeEachOtherButNotThemselves()
    {
        var registry = new SwarmRegistry();
        var (first, firstPeers) = Announce(registry, Peer(Hash(1), "10.0.0.1", 1000, evt: AnnounceEvent.Started));
        Assert.Empty(firstPeers);
        Assert.Equal((0, 1), (first.Seeders, first.Leechers));
        var (second, secondPeers) = Announce(registry, Peer(Hash(1), "10.0.0.2", 2000, left: 0));
        Assert.Equal((1, 1), (second.Seeders, second.Leechers));
        Assert.Equal(new IPEndPoint(IPAddress.Parse("10.0.0.1"), 1000), new IPEndPoint(Assert.Single(secondPeers).Address, secondPeers[0].Port));
        var (_, again) = Announce(registry, Peer(Hash(1), "10.0.0.1", 1000));
        Assert.Equal(2000, Assert.Single(again).Port);
    }

    [Fact]
    public void NumWantIsCappedAndDefaulted()
    {
        var registry = new SwarmRegistry(new SwarmRegistryOptions { DefaultNumWant = 5, MaxNumWant = 8 });
        for (int i = 1; i <= 20; i++) Announce(registry, Peer(Hash(1), $"10.0.1.{i}", 1000 + i));
        Assert.Equal(5, Announce(registry, Peer(Hash(1), "10.0.2.1", 1)).Peers.Length);
        Assert.Equal(8, Announce(registry, Peer(Hash(1), "10.0.2.1", 1, numWant: 1000)).Peers.Length);
        Assert.Equal(3, Announce(registry, Peer(Hash(1), "10.0.2.1", 1, numWant: 3)).Peers.Length);
        Assert.Empty(Announce(registry, Peer(Hash(1), "10.0.2.1", 1, numWant: 0)).Peers);
    }

    [Fact]
    public void StoppedRemovesAndCompletedCounts()
    {
        var registry = new SwarmRegistry();
        Announce(registry, Peer(Hash(1), "10.0.0.1", 1000, evt: AnnounceEvent.Started));
        Announce(registry, Peer(Hash(1), "10.0.0.2", 1000, evt: AnnounceEvent.Started));
        Announce(registry, Peer(Hash(1), "10.0.0.1", 1000, left: 0, evt: AnnounceEvent.Completed));
        Assert.Equal(new ScrapeEntry(1, 1, 1), registry.Scrape(Hash(1)));
        Announce(registry, Peer(Hash(1), "10.0.0.1", 1000, left: 0, evt: AnnounceEvent.Stopped));
        Assert.Equal(new ScrapeEntry(0, 1, 1), registry.Scrape(Hash(1)));
        Assert.Empty(Announce(registry, Peer(Hash(1), "10.0.0.2", 1000)).Peers);
    }

    [Fact]
    public void StoppedForAnUnknownTorrentCreatesNothing()
    {
        var registry = new SwarmRegistry();
        Announce(registry, Peer(Hash(9), "10.0.0.1", 1000, evt: AnnounceEvent.Stopped));
        Assert.Equal(0, registry.TorrentCount);
    }

    [Fact]
    public void SilentPeersExpire()
    {
        var time = new ManualTimeProvider();
        var registry = new SwarmRegistry(new SwarmRegistryOptions { PeerTimeout = TimeSpan.FromMinutes(60) }, time);
        Announce(registry, Peer(Hash(1), "10.0.0.1", 1000));
        time.Advance(TimeSpan.FromMinutes(40));
        Announce(registry, Peer(Hash(1), "10.0.0.2", 1000));
        time.Advance(TimeSpan.FromMinutes(30)); // 70 min for the first, 30 for the second
        var (outcome, peers) = Announce(registry, Peer(Hash(1), "10.0.0.3", 1000));
        Assert.Equal("10.0.0.2", Assert.Single(peers).Address.ToString());
        Assert.Equal(2, outcome.Leechers);

        time.Advance(TimeSpan.FromMinutes(61));
        registry.RemoveExpired();
        Assert.Equal(0, registry.TorrentCount);
        Assert.Equal(default, registry.Scrape(Hash(1)));
    }

    [Fact]
    public void BoundsRefuseNewTorrentsAndPeersWithAReason()
    {
        var registry = new SwarmRegistry(new SwarmRegistryOptions { MaxTorrents = 2, MaxPeersPerTorrent = 3 });
        Assert.Null(Announce(registry, Peer(Hash(1), "10.0.0.1", 1)).Outcome.FailureReason);
        Assert.Null(Announce(registry, Peer(Hash(2), "10.0.0.1", 1)).Outcome.FailureReason);
        Assert.Contains("as many torrents", Announce(registry, Peer(Hash(3), "10.0.0.1", 1)).Outcome.FailureReason, StringComparison.Ordinal);
        Assert.Null(Announce(registry, Peer(Hash(1), "10.0.0.2", 1)).Outcome.FailureReason);
        Assert.Null(Announce(registry, Peer(Hash(1), "10.0.0.3", 1)).Outcome.FailureReason);
        Assert.Contains("as many peers", Announce(registry, Peer(Hash(1), "10.0.0.4", 1)).Outcome.FailureReason, StringComparison.Ordinal);
        Assert.Null(Announce(registry, Peer(Hash(1), "10.0.0.3", 1)).Outcome.FailureReason); // known peers keep working
    }

    [Fact]
    public void AllowListRefusesOtherTorrents()
    {
        var registry = new SwarmRegistry(new SwarmRegistryOptions { AllowList = new HashSet<InfoHash> { Hash(1) } });
        Assert.Null(Announce(registry, Peer(Hash(1), "10.0.0.1", 1)).Outcome.FailureReason);
        Assert.Contains("does not serve", Announce(registry, Peer(Hash(2), "10.0.0.1", 1)).Outcome.FailureReason, StringComparison.Ordinal);
        Assert.Equal(1, registry.TorrentCount);
    }

    [Fact]
    public void FamiliesFilterAndMappedAddressesCountAsIpv4()
    {
        var registry = new SwarmRegistry();
        Announce(registry, Peer(Hash(1), "::ffff:10.0.0.1", 1));
        Announce(registry, Peer(Hash(1), "2001:db8::1", 2));
        Assert.Equal(["10.0.0.1"], Announce(registry, Peer(Hash(1), "10.9.9.9", 3), PeerFamilies.V4).Peers.Select(p => p.Address.ToString()));
        Assert.Equal(["2001:db8::1"], Announce(registry, Peer(Hash(1), "10.9.9.9", 3), PeerFamilies.V6).Peers.Select(p => p.Address.ToString()));
        Assert.Equal(2, Announce(registry, Peer(Hash(1), "10.0.0.1", 1)).Peers.Length); // the mapped form was the same peer
    }

    [Fact]
    public void RandomSelectionReachesEveryPeer()
    {
        var registry = new SwarmRegistry(new SwarmRegistryOptions { DefaultNumWant = 5 });
        for (int i = 1; i <= 50; i++) Announce(registry, Peer(Hash(1), $"10.0.1.{i}", 1000));
        var seen = new HashSet<string>();
        for (int i = 0; i < 400; i++)
        {
            foreach (SwarmPeer p in Announce(registry, Peer(Hash(1), "10.0.2.1", 1)).Peers) seen.Add(p.Address.ToString());
        }
        Assert.Equal(50, seen.Count);
    }

    [Fact]
    public void OneAddressHoldsAtMostItsShareAndANewPortReplacesItsStalestEntry()
    {
        var time = new ManualTimeProvider();
        var registry = new SwarmRegistry(new SwarmRegistryOptions { MaxPeersPerAddress = 3 }, time);
        for (int port = 1; port <= 3; port++)
        {
            Announce(registry, Peer(Hash(1), "10.0.0.1", port));
            time.Advance(TimeSpan.FromSeconds(1));
        }
        Announce(registry, Peer(Hash(1), "10.0.0.1", 1)); // port 1 is fresh again: port 2 is now the stalest
        time.Advance(TimeSpan.FromSeconds(1));
        for (int port = 100; port < 1100; port++) Announce(registry, Peer(Hash(1), "10.0.0.1", port, numWant: 0));
        ScrapeEntry counts = registry.Scrape(Hash(1));
        Assert.Equal(3, counts.Leechers);
        int[] ports = [.. Announce(registry, Peer(Hash(1), "10.0.0.9", 1)).Peers.Where(p => p.Address.ToString() == "10.0.0.1").Select(p => p.Port).Order()];
        Assert.Equal([1097, 1098, 1099], ports); // the newest ports, since each replaced the one heard from least recently

        // A /64 is one address; another /64 is another.
        for (int i = 1; i <= 5; i++) Announce(registry, Peer(Hash(2), $"2001:db8:0:1::{i}", 1000));
        for (int i = 1; i <= 2; i++) Announce(registry, Peer(Hash(2), $"2001:db8:0:2::{i}", 1000));
        Assert.Equal(5, registry.Scrape(Hash(2)).Leechers);
    }

    [Fact]
    public void TheListHandedOutSpreadsOverAddressesBeforeRepeatingOne()
    {
        var registry = new SwarmRegistry(new SwarmRegistryOptions { MaxPeersPerAddress = 50 });
        for (int port = 1; port <= 50; port++) Announce(registry, Peer(Hash(1), "10.0.0.1", port, numWant: 0));
        for (int i = 2; i <= 5; i++) Announce(registry, Peer(Hash(1), $"10.0.0.{i}", 6881, numWant: 0));
        for (int round = 0; round < 20; round++)
        {
            SwarmPeer[] peers = Announce(registry, Peer(Hash(1), "10.0.1.1", 1, numWant: 6)).Peers;
            Assert.Equal(6, peers.Length);
            // All five addresses, and the sixth slot a second port of the crowded one.
            Assert.Equal(5, peers.Select(p => p.Address.ToString()).Distinct().Count());
            Assert.Equal(6, peers.Select(p => (p.Address.ToString(), p.Port)).Distinct().Count());
        }
    }
}
