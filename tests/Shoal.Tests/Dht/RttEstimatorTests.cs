using Shoal.Dht;

namespace Shoal.Tests.Dht;

public sealed class RttEstimatorTests
{
    private static readonly TimeSpan Min = TimeSpan.FromMilliseconds(100), Max = TimeSpan.FromSeconds(1.5);

    [Fact]
    public void BeforeAnySampleTheSoftTimeoutIsTheUpperBound()
    {
        var rtt = new RttEstimator(Min, Max);
        Assert.False(rtt.HasSample);
        Assert.Null(rtt.Smoothed);
        Assert.Equal(Max, rtt.SoftTimeout);
    }

    [Fact]
    public void TheFirstSampleSetsSrttAndHalfOfItAsVariation()
    {
        var rtt = new RttEstimator(Min, Max);
        Assert.True(rtt.AddSample(TimeSpan.FromMilliseconds(200)));
        Assert.Equal(TimeSpan.FromMilliseconds(200), rtt.Smoothed);
        Assert.Equal(TimeSpan.FromMilliseconds(100), rtt.Variation);
        Assert.Equal(TimeSpan.FromMilliseconds(600), rtt.SoftTimeout); // SRTT + 4 RTTVAR (RFC 6298)
        Assert.False(rtt.AddSample(TimeSpan.FromMilliseconds(200))); // only the first one says "first"
    }

    [Fact]
    public void LaterSamplesAreSmoothedWithTheRfc6298Gains()
    {
        var rtt = new RttEstimator(Min, Max);
        rtt.AddSample(TimeSpan.FromMilliseconds(200));
        rtt.AddSample(TimeSpan.FromMilliseconds(400));
        // RTTVAR = 3/4 * 100 + 1/4 * |200 - 400| = 125; SRTT = 7/8 * 200 + 1/8 * 400 = 225.
        Assert.Equal(225, rtt.Smoothed!.Value.TotalMilliseconds, 6);
        Assert.Equal(125, rtt.Variation!.Value.TotalMilliseconds, 6);
        Assert.Equal(725, rtt.SoftTimeout.TotalMilliseconds, 6);
    }

    [Fact]
    public void ASteadyNetworkConvergesAndTheBoundsHold()
    {
        var rtt = new RttEstimator(Min, Max);
        for (int i = 0; i < 200; i++) rtt.AddSample(TimeSpan.FromMilliseconds(50));
        Assert.Equal(50, rtt.Smoothed!.Value.TotalMilliseconds, 3);
        Assert.Equal(Min, rtt.SoftTimeout); // 50 ms + ~0 is below the floor

        var slow = new RttEstimator(Min, Max);
        slow.AddSample(TimeSpan.FromSeconds(3));
        Assert.Equal(Max, slow.SoftTimeout);
    }

    [Fact]
    public void NegativeSamplesFromAClockStepAreIgnored()
    {
        var rtt = new RttEstimator(Min, Max);
        Assert.False(rtt.AddSample(TimeSpan.FromMilliseconds(-5)));
        Assert.False(rtt.HasSample);
        Assert.Throws<ArgumentOutOfRangeException>(() => new RttEstimator(Max, Min));
    }
}
