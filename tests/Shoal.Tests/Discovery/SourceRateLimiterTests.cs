using System.Net;
using Shoal.Discovery;

namespace Shoal.Tests.Discovery;

public sealed class SourceRateLimiterTests
{
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);

    [Fact]
    public void AllowsUpToTheLimitPerWindowPerSource()
    {
        var limiter = new SourceRateLimiter(2, Minute);
        IPAddress a = IPAddress.Parse("10.0.0.1"), b = IPAddress.Parse("10.0.0.2");
        Assert.True(limiter.Allow(a, TimeSpan.Zero));
        Assert.True(limiter.Allow(a, TimeSpan.FromSeconds(10)));
        Assert.False(limiter.Allow(a, TimeSpan.FromSeconds(20)));
        Assert.True(limiter.Allow(b, TimeSpan.FromSeconds(20)));
        Assert.True(limiter.Allow(a, Minute));
    }

    [Fact]
    public void TracksABoundedNumberOfSources()
    {
        var limiter = new SourceRateLimiter(5, Minute);
        for (int i = 0; i < SourceRateLimiter.MaxSources; i++)
            Assert.True(limiter.Allow(new IPAddress(i + 1), TimeSpan.Zero));
        Assert.False(limiter.Allow(IPAddress.Parse("192.0.2.1"), TimeSpan.FromSeconds(30)));
        Assert.Equal(SourceRateLimiter.MaxSources, limiter.Count);
        Assert.True(limiter.Allow(IPAddress.Parse("192.0.2.1"), Minute));
        Assert.Equal(1, limiter.Count);
    }
}
