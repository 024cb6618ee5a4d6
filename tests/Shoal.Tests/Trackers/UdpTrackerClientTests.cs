using System.Net;
using Shoal.Trackers;
using static Shoal.Tests.Trackers.TrackerTestKit;

namespace Shoal.Tests.Trackers;

public sealed class UdpTrackerClientTests
{
    private static readonly UdpTrackerOptions Fast = new() { RetransmitBase = TimeSpan.FromMilliseconds(50), MaxRetransmissions = 6 };

    [Fact]
    public async Task RetransmitsWhenTheFirstPacketsAreDropped()
    {
        await using var tracker = new FakeUdpTracker(IPAddress.Loopback, dropFirst: 3);
        using var client = new UdpTrackerClient(tracker.Url, Fast);
        AnnounceResponse response = await client.AnnounceAsync(Request(Hash(1), PeerId('a'), 6881, 100), CancellationToken.None);
        Assert.Equal([IPEndPoint.Parse("127.0.0.1:6881")], response.Peers);
        Assert.Equal(TimeSpan.FromSeconds(1800), response.Interval);
        Assert.Equal(3, response.Complete);
        Assert.Equal(2, response.Incomplete);
        Assert.True(tracker.PacketsReceived >= 5, $"expected 3 dropped + connect + announce, saw {tracker.PacketsReceived}");
    }

    [Fact]
    public async Task ConnectionIdIsReusedWithinAMinuteAndRenewedAfter()
    {
        var time = new ManualTimeProvider();
        await using var tracker = new FakeUdpTracker(IPAddress.Loopback);
        using var client = new UdpTrackerClient(tracker.Url, Fast, time);
        await client.AnnounceAsync(Request(Hash(1), PeerId('a'), 6881, 100), CancellationToken.None);
        time.Advance(TimeSpan.FromSeconds(59));
        await client.AnnounceAsync(Request(Hash(1), PeerId('a'), 6881, 100, AnnounceEvent.None), CancellationToken.None);
        Assert.Equal(1, client.ConnectRequestsSent);
        Assert.Equal(1, tracker.ConnectsReceived);
        Assert.All(tracker.AnnounceConnectionIds, id => Assert.Equal(FakeUdpTracker.ConnectionId, id));

        time.Advance(TimeSpan.FromSeconds(2));
        await client.AnnounceAsync(Request(Hash(1), PeerId('a'), 6881, 100, AnnounceEvent.None), CancellationToken.None);
        Assert.Equal(2, client.ConnectRequestsSent);
    }

    [Fact]
    public async Task AnswersWithAnotherTransactionIdAreIgnored()
    {
        await using var tracker = new FakeUdpTracker(IPAddress.Loopback) { SendDecoy = true };
        using var client = new UdpTrackerClient(tracker.Url, Fast);
        AnnounceResponse response = await client.AnnounceAsync(Request(Hash(1), PeerId('a'), 6881, 100), CancellationToken.None);
        Assert.Equal([IPEndPoint.Parse("127.0.0.1:6881")], response.Peers); // not the decoy's 9.9.9.9
        Assert.Equal(FakeUdpTracker.ConnectionId, Assert.Single(tracker.AnnounceConnectionIds));
    }

    [Fact]
    public async Task ErrorActionBecomesTrackerExceptionWithTheMessage()
    {
        await using var tracker = new FakeUdpTracker(IPAddress.Loopback) { ErrorMessage = "torrent not registered" };
        using var client = new UdpTrackerClient(tracker.Url, Fast);
        TrackerException e = await Assert.ThrowsAsync<TrackerException>(
            () => client.AnnounceAsync(Request(Hash(1), PeerId('a'), 6881, 100), CancellationToken.None));
        Assert.Equal("torrent not registered", e.FailureReason);
        Assert.Contains(tracker.Url.ToString(), e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GivesUpAfterTheLastRetransmission()
    {
        await using var tracker = new FakeUdpTracker(IPAddress.Loopback) { Silent = true };
        using var client = new UdpTrackerClient(tracker.Url, new UdpTrackerOptions { RetransmitBase = TimeSpan.FromMilliseconds(10), MaxRetransmissions = 2 });
        TrackerException e = await Assert.ThrowsAsync<TrackerException>(
            () => client.AnnounceAsync(Request(Hash(1), PeerId('a'), 6881, 100), CancellationToken.None));
        Assert.Contains("no answer after 3 tries", e.Message, StringComparison.Ordinal);
        await WaitUntilAsync(() => tracker.ConnectsReceived == 3, "3 connect requests");
    }

    [Fact]
    public async Task Ipv6TrackerAnswersWith18BytePeers()
    {
        byte[] peer = [.. IPAddress.Parse("2001:db8::5").GetAddressBytes(), 0x1A, 0xE1];
        await using var tracker = new FakeUdpTracker(IPAddress.IPv6Loopback) { CompactPeers = peer };
        using var client = new UdpTrackerClient(tracker.Url, Fast);
        AnnounceResponse response = await client.AnnounceAsync(Request(Hash(1), PeerId('a'), 6881, 100), CancellationToken.None);
        Assert.Equal([IPEndPoint.Parse("[2001:db8::5]:6881")], response.Peers);
    }

    [Fact]
    public async Task ScrapePairsEntriesWithTheRequestedHashes()
    {
        await using var tracker = new FakeUdpTracker(IPAddress.Loopback);
        using var client = new UdpTrackerClient(tracker.Url, Fast);
        ScrapeResponse response = await client.ScrapeAsync([Hash(1), Hash(2)], CancellationToken.None);
        Assert.Equal(new ScrapeEntry(10, 20, 30), response.Files[Hash(1)]);
        Assert.Equal(new ScrapeEntry(11, 21, 31), response.Files[Hash(2)]);
    }
}
