using System.Net;
using Shoal.Discovery;

namespace Shoal.Tests.Discovery;

public sealed class PexTrackerTests
{
    private static readonly TimeSpan Minute = TimeSpan.FromSeconds(60);

    private static IPEndPoint Peer(int i) => new(new IPAddress([10, 0, (byte)(i >> 8), (byte)i]), 6881);

    private static Dictionary<IPEndPoint, PexFlags> Connected(IEnumerable<int> ids) =>
        ids.ToDictionary(Peer, i => i % 2 == 0 ? PexFlags.Seed : PexFlags.None);

    [Fact]
    public void FirstMessageAddsEveryoneButThePeerItself()
    {
        var tracker = new PexTracker(Peer(1));
        PexMessage? message = tracker.NextMessage(Connected([1, 2, 3]), TimeSpan.Zero);
        Assert.NotNull(message);
        Assert.Equal([Peer(2), Peer(3)], message.Added.Select(p => p.EndPoint).OrderBy(e => e.ToString()));
        Assert.Equal(PexFlags.Seed, message.Added.Single(p => p.EndPoint.Equals(Peer(2))).Flags);
        Assert.Empty(message.Dropped);
    }

    [Fact]
    public void SendsOnlyTheDifferenceAndAtMostOncePerMinute()
    {
        var tracker = new PexTracker(Peer(1));
        Assert.NotNull(tracker.NextMessage(Connected([1, 2, 3]), TimeSpan.Zero));
        Assert.Null(tracker.NextMessage(Connected([1, 3, 4]), TimeSpan.FromSeconds(59)));

        PexMessage? second = tracker.NextMessage(Connected([1, 3, 4]), Minute);
        Assert.NotNull(second);
        Assert.Equal([Peer(4)], second.Added.Select(p => p.EndPoint));
        Assert.Equal([Peer(2)], second.Dropped);

        Assert.Null(tracker.NextMessage(Connected([1, 3, 4]), 2 * Minute)); // nothing changed
        PexMessage? third = tracker.NextMessage(Connected([1]), 2 * Minute + TimeSpan.FromSeconds(1));
        Assert.NotNull(third);
        Assert.Empty(third.Added);
        Assert.Equal(2, third.Dropped.Count);
        Assert.Equal(0, tracker.ToldCount);
    }

    [Fact]
    public void LimitsAddedAndDroppedTo50PerMessage()
    {
        var tracker = new PexTracker(null);
        PexMessage first = tracker.NextMessage(Connected(Enumerable.Range(1, 120)), TimeSpan.Zero)!;
        Assert.Equal(PexTracker.MaxAddedPerMessage, first.Added.Count);
        PexMessage second = tracker.NextMessage(Connected(Enumerable.Range(1, 120)), Minute)!;
        Assert.Equal(50, second.Added.Count);
        Assert.Empty(second.Added.Select(p => p.EndPoint).Intersect(first.Added.Select(p => p.EndPoint)));
        Assert.Equal(100, tracker.ToldCount);

        PexMessage third = tracker.NextMessage(Connected([]), 2 * Minute)!;
        Assert.Empty(third.Added);
        Assert.Equal(PexTracker.MaxDroppedPerMessage, third.Dropped.Count);
        Assert.Equal(50, tracker.ToldCount);
    }

    [Fact]
    public void LearnsItsOwnEndPointLaterAndDropsItIfAlreadySent()
    {
        var tracker = new PexTracker(null);
        Assert.Equal(2, tracker.NextMessage(Connected([1, 2]), TimeSpan.Zero)!.Added.Count);
        tracker.Self = new IPEndPoint(Peer(1).Address.MapToIPv6(), 6881);
        Assert.Equal(Peer(1), tracker.Self);
        PexMessage message = tracker.NextMessage(Connected([1, 2]), Minute)!;
        Assert.Equal([Peer(1)], message.Dropped);
        Assert.Empty(message.Added);
    }

    [Fact]
    public void IncomingMessagesTooCloseTogetherAreRefused()
    {
        var tracker = new PexTracker(null);
        Assert.True(tracker.OnReceived(TimeSpan.FromSeconds(10)));
        Assert.False(tracker.OnReceived(TimeSpan.FromSeconds(30)));
        Assert.True(tracker.OnReceived(TimeSpan.FromSeconds(56)));
    }

    [Fact]
    public void OnePeerHandsUsAtMostABurstOfNewAddressesThenFiftyAMinute()
    {
        var tracker = new PexTracker(null);
        TimeSpan now = TimeSpan.FromMinutes(5);
        int taken = 0;
        while (tracker.TryTakeNewAddress(now)) taken++;
        Assert.Equal(PexTracker.NewAddressBurst, taken);
        Assert.False(tracker.TryTakeNewAddress(now + TimeSpan.FromSeconds(1)));

        now += TimeSpan.FromSeconds(30); // half a minute: 25 more
        taken = 0;
        while (tracker.TryTakeNewAddress(now)) taken++;
        Assert.Equal(PexTracker.NewAddressesPerMinute / 2, taken);

        now += TimeSpan.FromHours(1); // never more than the burst
        taken = 0;
        while (tracker.TryTakeNewAddress(now)) taken++;
        Assert.Equal(PexTracker.NewAddressBurst, taken);
    }
}
