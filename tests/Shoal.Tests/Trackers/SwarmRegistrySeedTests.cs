using System.Net;
using Shoal.Metainfo;
using Shoal.Trackers;
using Shoal.Trackers.Server;
using static Shoal.Tests.Trackers.TrackerTestKit;

namespace Shoal.Tests.Trackers;

/// <summary>The tracker server's random choices come from its options: a seeded registry replays exactly.</summary>
public sealed class SwarmRegistrySeedTests
{
    private static List<int> HandedOut(int seed)
    {
        var registry = new SwarmRegistry(new SwarmRegistryOptions { Random = new Random(seed), DefaultNumWant = 5 });
        var buffer = new SwarmPeer[registry.Options.MaxNumWant];
        var ports = new List<int>();
        for (int i = 1; i <= 40; i++)
        {
            var request = new PeerAnnounce(Hash(1), PeerId((char)('a' + i % 26)), IPAddress.Parse($"10.0.{i}.1"), 1000 + i, 0, 0, 100, AnnounceEvent.None, -1);
            AnnounceOutcome outcome = registry.Announce(request, PeerFamilies.Both, buffer);
            ports.AddRange(buffer[..outcome.PeerCount].Select(p => p.Port));
        }
        return ports;
    }

    [Fact]
    public void The_same_seed_hands_out_the_same_peers_and_another_seed_others()
    {
        Assert.Equal(HandedOut(1), HandedOut(1));
        Assert.NotEqual(HandedOut(1), HandedOut(2));
    }
}
