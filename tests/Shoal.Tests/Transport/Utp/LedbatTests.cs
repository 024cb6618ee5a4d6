using Shoal.Transport.Utp;

namespace Shoal.Tests.Transport.Utp;

/// <summary>LEDBAT: the controller alone, the base delay history, and the whole connection over a bottleneck.</summary>
public sealed class LedbatTests
{
    private const long Target = 100_000;

    private static LedbatController Controller(int initial = 10_000) =>
        new(targetDelayMicros: Target, gainBytesPerRtt: 3000, initialWindow: initial, maxWindow: 1 << 22);

    [Fact]
    public void SlowStartGrowsByTheBytesAckedWhileUnderTarget()
    {
        LedbatController cc = Controller();
        cc.OnAck(ackedBytes: 5000, inFlightBefore: 10_000, queuingDelayMicros: 0, windowFull: true);
        Assert.Equal(15_000, cc.Window);
        Assert.True(cc.InSlowStart);
    }

    [Fact]
    public void DelayAtTargetEndsSlowStart()
    {
        LedbatController cc = Controller();
        cc.OnAck(5000, 10_000, Target, windowFull: true);
        Assert.False(cc.InSlowStart);
        Assert.Equal(5000, cc.SlowStartThreshold);
    }

    [Theory]
    [InlineData(0, 3000)] // no queue: the full gain per window of acks
    [InlineData(50_000, 1500)] // half way to the target: half the gain
    [InlineData(100_000, 0)] // at the target: hold
    [InlineData(200_000, -3000)] // a target above it: shrink by the gain
    [InlineData(400_000, -9000)] // three targets above: three times faster
    public void TheWindowMovesInProportionToTheDistanceFromTheTarget(long delay, double change)
    {
        LedbatController cc = Controller(initial: 100_000);
        cc.OnLoss(1000); // leave slow start (window 50 000)
        double before = cc.Window;
        // A whole window acked: the change is one round trip's worth.
        cc.OnAck((int)before, (int)before, delay, windowFull: true);
        Assert.Equal(before + change, cc.Window, precision: 6);
    }

    [Fact]
    public void AnApplicationLimitedSenderDoesNotGrowItsWindowButStillBacksOff()
    {
        LedbatController cc = Controller();
        cc.OnLoss(1000);
        double before = cc.Window;
        cc.OnAck(1000, 2000, 0, windowFull: false);
        Assert.Equal(before, cc.Window);
        cc.OnAck(1000, 2000, 300_000, windowFull: false);
        Assert.True(cc.Window < before);
    }

    [Fact]
    public void LossHalvesAndTimeoutRestartsFromOnePacket()
    {
        LedbatController cc = Controller(initial: 100_000);
        cc.OnLoss(1400);
        Assert.Equal(50_000, cc.Window);
        Assert.Equal(50_000, cc.SlowStartThreshold);
        for (int i = 0; i < 20; i++) cc.OnLoss(1400);
        Assert.Equal(1400, cc.Window); // never below one packet
        cc.OnTimeout(1400, idle: false);
        Assert.Equal(1400, cc.Window);
        Assert.True(cc.InSlowStart);
    }

    [Fact]
    public void TheWindowNeverGoesNegative()
    {
        LedbatController cc = Controller(initial: 2000);
        cc.OnLoss(1000);
        for (int i = 0; i < 100; i++) cc.OnAck(1000, 1000, 5_000_000, windowFull: true);
        Assert.Equal(0, cc.Window);
    }

    [Fact]
    public void BaseDelayIsTheMinimumOfTheLastTenMinutes()
    {
        var history = new DelayHistory();
        long minute = DelayHistory.BucketMicros;
        Assert.Equal(0u, history.Add(50_000, 0));
        Assert.Equal(30_000u, history.Add(80_000, 1));
        Assert.Equal(0u, history.Add(40_000, 2));
        Assert.Equal(40_000u, history.Base);
        // Nine minutes later the old minimum still holds.
        for (int m = 1; m <= 9; m++) history.Add(70_000, m * minute + 5);
        Assert.Equal(40_000u, history.Base);
        // After ten it has aged out: a route that became slower is not mistaken for a queue forever.
        history.Add(70_000, 10 * minute + 10);
        Assert.Equal(70_000u, history.Base);
    }

    [Fact]
    public void BaseDelayComparesAcrossTheWrapOfTheMicrosecondClock()
    {
        var history = new DelayHistory();
        history.Add(uint.MaxValue - 10, 0);
        Assert.Equal(20u, history.Add(9, 1)); // 20 µs later across the wrap: above the base, not below
        Assert.Equal(uint.MaxValue - 10, history.Base);
    }

    [Fact]
    public void OverABottleneckTheQueueSettlesNearTheTargetNotTheBufferSize()
    {
        var sim = Bottleneck(seed: 101);
        sim.Connect();
        sim.A.Write(new byte[60_000_000]);
        var delays = new List<double>();
        long receivedAt10 = 0;
        for (int s = 1; s <= 40; s++)
        {
            sim.Run(TimeSpan.FromSeconds(1));
            if (s == 10) receivedAt10 = sim.B.Stream.ReceivedCount;
            if (s > 10) delays.Add(sim.AtoB.QueuingDelay.TotalMilliseconds);
        }
        double throughput = (sim.B.Stream.ReceivedCount - receivedAt10) / 30.0;
        double meanDelay = delays.Average();
        // The buffer could hold a whole second; LEDBAT keeps it near 100 ms and still fills the link.
        Assert.InRange(meanDelay, 40, 160);
        Assert.True(throughput > 0.85 * 1_000_000, $"throughput {throughput:0} B/s");
    }

    [Fact]
    public void WhenTheDelayRisesTheWindowShrinks()
    {
        var sim = Bottleneck(seed: 102);
        sim.Connect();
        sim.A.Write(new byte[60_000_000]);
        sim.Run(TimeSpan.FromSeconds(20));
        double before = AverageWindow(sim, TimeSpan.FromSeconds(5));
        // Something else now queues 250 ms of delay on the path (the base delay cannot know).
        sim.AtoB.ExtraDelay = TimeSpan.FromMilliseconds(250);
        double soon = AverageWindow(sim, TimeSpan.FromSeconds(3));
        sim.Run(TimeSpan.FromSeconds(5));
        double later = AverageWindow(sim, TimeSpan.FromSeconds(3));
        // Above the target the window falls by up to the gain per round trip, times how far above it is.
        Assert.True(soon < before, $"window {before:0} bytes before, {soon:0} in the 3 s after the delay rose");
        Assert.True(later < before / 4, $"window {before:0} bytes before, {later:0} 8 s after the delay rose");
        Assert.True(sim.A.Connection!.QueuingDelayMicros > Target, "the controller saw the delay above its target");
    }

    [Fact]
    public void ItYieldsToCompetingTrafficAndTakesTheLinkBackAfterwards()
    {
        var sim = Bottleneck(seed: 103);
        sim.Connect();
        sim.A.Write(new byte[80_000_000]);
        sim.Run(TimeSpan.FromSeconds(15));
        long mark = sim.B.Stream.ReceivedCount;
        sim.Run(TimeSpan.FromSeconds(10));
        double alone = (sim.B.Stream.ReceivedCount - mark) / 10.0;

        // A flow of 900 KB/s without any congestion control joins on the 1 MB/s link for 20 s.
        sim.AtoB.StartCrossTraffic(900_000, TimeSpan.FromSeconds(20));
        sim.Run(TimeSpan.FromSeconds(5));
        mark = sim.B.Stream.ReceivedCount;
        var delays = new List<double>();
        for (int s = 0; s < 15; s++)
        {
            sim.Run(TimeSpan.FromSeconds(1));
            delays.Add(sim.AtoB.QueuingDelay.TotalMilliseconds);
        }
        double shared = (sim.B.Stream.ReceivedCount - mark) / 15.0;

        sim.Run(TimeSpan.FromSeconds(10));
        mark = sim.B.Stream.ReceivedCount;
        sim.Run(TimeSpan.FromSeconds(10));
        double after = (sim.B.Stream.ReceivedCount - mark) / 10.0;

        Assert.True(alone > 850_000, $"alone {alone:0} B/s");
        Assert.True(shared < 150_000, $"uTP kept {shared:0} B/s next to a 900 KB/s flow on a 1 MB/s link");
        // The other flow's packets wait behind a short queue, not the whole 1 s buffer.
        Assert.True(delays.Average() < 200, $"mean queuing delay {delays.Average():0} ms");
        Assert.True(after > 850_000, $"after {after:0} B/s");
    }

    /// <summary>A 1 MB/s bottleneck with a 1 s (1 MB) buffer and 20 ms of propagation delay each way.</summary>
    private static UtpSimulation Bottleneck(int seed)
    {
        var sim = new UtpSimulation(seed);
        sim.AtoB.BytesPerSecond = 1_000_000;
        sim.AtoB.QueueLimitBytes = 1_000_000;
        sim.AtoB.Delay = TimeSpan.FromMilliseconds(20);
        sim.BtoA.Delay = TimeSpan.FromMilliseconds(20);
        return sim;
    }

    private static double AverageWindow(UtpSimulation sim, TimeSpan span)
    {
        var samples = new List<double>();
        for (long t = 0; t < span.Ticks; t += TimeSpan.TicksPerMillisecond * 100)
        {
            sim.Run(TimeSpan.FromMilliseconds(100));
            samples.Add(sim.A.Connection!.CongestionWindow);
        }
        return samples.Average();
    }
}
