using System.Net;
using Shoal.Cli.Demo;
using Shoal.Swarm;

namespace Shoal.Tests.Cli;

public sealed class ByteSourceTrackerTests
{
    private static readonly byte[] Seeder = Enumerable.Repeat((byte)1, 20).ToArray();
    private static readonly byte[] Other = Enumerable.Repeat((byte)2, 20).ToArray();

    private static PeerStatus Peer(long id, byte[] peerId, long downloaded) => new(
        id, new IPEndPoint(IPAddress.Loopback, 1000 + (int)id), peerId, "test", Incoming: false, downloaded,
        Uploaded: 0, DownloadRate: 0, UploadRate: 0, Progress: 0, AmChoking: true, PeerChoking: false, AmInterested: true, PeerInterested: false, Source: PeerSource.Manual);

    [Fact]
    public void Classifies_bytes_by_peer_id_and_keeps_the_largest_count()
    {
        var tracker = new ByteSourceTracker();
        tracker.Observe([Peer(1, Seeder, 100), Peer(2, Other, 50)], Seeder);
        tracker.Observe([Peer(1, Seeder, 300), Peer(2, Other, 40)], Seeder); // a smaller count never lowers the total

        Assert.Equal(300, tracker.FromSeeder);
        Assert.Equal(50, tracker.FromPeers);
        Assert.Equal(50.0 / 350, tracker.PeerShare, 10);
    }

    [Fact]
    public void Closed_connections_still_count()
    {
        var tracker = new ByteSourceTracker();
        tracker.Observe([Peer(1, Seeder, 100), Peer(2, Other, 200)], Seeder);
        tracker.Observe([Peer(3, Other, 10)], Seeder); // 1 and 2 closed, 3 opened
        tracker.Observe([Peer(3, Other, 70)], Seeder);

        Assert.Equal(100, tracker.FromSeeder);
        Assert.Equal(270, tracker.FromPeers);
    }

    [Fact]
    public void Nothing_received_is_a_zero_share()
    {
        var tracker = new ByteSourceTracker();
        tracker.Observe([], Seeder);
        Assert.Equal(0, tracker.PeerShare);
    }
}
