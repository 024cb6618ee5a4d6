using System.Net;
using Shoal.Trackers.Server;

namespace Shoal.Tests.Trackers;

public sealed class AddressRateLimiterTests
{
    [Fact]
    public void BurstThenRefillAtTheRate()
    {
        var time = new ManualTimeProvider();
        var limiter = new AddressRateLimiter(perSecond: 2, burst: 4, time: time);
        IPAddress a = IPAddress.Parse("10.0.0.1");
        Assert.Equal([true, true, true, true, false], Enumerable.Range(0, 5).Select(_ => limiter.TryAcquire(a)));
        Assert.True(limiter.TryAcquire(IPAddress.Parse("10.0.0.2"))); // another address has its own bucket
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal([true, true, false], Enumerable.Range(0, 3).Select(_ => limiter.TryAcquire(a)));
    }

    [Fact]
    public void Ipv6CountsPerSlash64AndMappedIpv4IsIpv4()
    {
        var limiter = new AddressRateLimiter(perSecond: 1, burst: 1, time: new ManualTimeProvider());
        Assert.True(limiter.TryAcquire(IPAddress.Parse("2001:db8:1:2::1")));
        Assert.False(limiter.TryAcquire(IPAddress.Parse("2001:db8:1:2::ffff")));
        Assert.True(limiter.TryAcquire(IPAddress.Parse("2001:db8:1:3::1")));
        Assert.True(limiter.TryAcquire(IPAddress.Parse("10.0.0.1")));
        Assert.False(limiter.TryAcquire(IPAddress.Parse("::ffff:10.0.0.1")));
    }

    [Fact]
    public void TableIsBoundedAndForgetsTheLeastRecent()
    {
        var limiter = new AddressRateLimiter(perSecond: 1, burst: 1, maxAddresses: 3, time: new ManualTimeProvider());
        for (int i = 1; i <= 3; i++) Assert.True(limiter.TryAcquire(IPAddress.Parse($"10.0.0.{i}")));
        Assert.False(limiter.TryAcquire(IPAddress.Parse("10.0.0.1"))); // now the most recent; .2 is the oldest
        Assert.True(limiter.TryAcquire(IPAddress.Parse("10.0.0.4")));  // evicts .2
        Assert.Equal(3, limiter.Count);
        Assert.True(limiter.TryAcquire(IPAddress.Parse("10.0.0.2")));  // forgotten: a fresh bucket
        Assert.False(limiter.TryAcquire(IPAddress.Parse("10.0.0.4")));
    }
}
