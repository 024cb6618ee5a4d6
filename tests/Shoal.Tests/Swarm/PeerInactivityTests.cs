using Shoal.Swarm;

namespace Shoal.Tests.Swarm;

public sealed class PeerInactivityTests
{
    private static PeerActivity Active => new(TimeSpan.FromSeconds(1), null, 0, null, TimeSpan.FromSeconds(1), WaitingForUnchoke: false);

    [Fact]
    public void AnActivePeerIsKept() => Assert.Null(PeerInactivity.Verdict(Active));

    [Fact]
    public void AMessageMustArriveWithinItsDeadline()
    {
        // 16 KiB announced: a minute plus 16 s.
        Assert.Equal(TimeSpan.FromSeconds(76), PeerInactivity.MessageDeadline(16 * 1024));
        Assert.Null(PeerInactivity.Verdict(Active with { PartialMessageAge = TimeSpan.FromSeconds(70), PartialMessageLength = 16 * 1024 + 9 }));
        Assert.StartsWith("sent a message too slowly",
            PeerInactivity.Verdict(Active with { PartialMessageAge = TimeSpan.FromSeconds(80), PartialMessageLength = 16 * 1024 + 9 }));
        // Dribbling the four bytes of a length prefix: the base minute.
        Assert.NotNull(PeerInactivity.Verdict(Active with { PartialMessageAge = TimeSpan.FromSeconds(61) }));
    }

    [Fact]
    public void SilenceIsCountedInWholeMessages()
    {
        Assert.Null(PeerInactivity.Verdict(Active with { SinceMessage = TimeSpan.FromSeconds(149) }));
        Assert.StartsWith("inactive for too long", PeerInactivity.Verdict(Active with { SinceMessage = TimeSpan.FromSeconds(151) }));
    }

    [Fact]
    public void APeerWhoseSocketTakesNothingIsNotReading()
    {
        Assert.Null(PeerInactivity.Verdict(Active with { SendStalledFor = TimeSpan.FromSeconds(100) }));
        Assert.StartsWith("stopped reading", PeerInactivity.Verdict(Active with { SendStalledFor = TimeSpan.FromSeconds(121) }));
    }

    [Fact]
    public void NoPayloadForTenMinutesIsUselessUnlessSomeoneWaitsForAnUnchoke()
    {
        PeerActivity useless = Active with { SinceUseful = TimeSpan.FromMinutes(11) };
        Assert.StartsWith("no useful exchange for 11 minutes", PeerInactivity.Verdict(useless));
        Assert.Null(PeerInactivity.Verdict(useless with { WaitingForUnchoke = true }));
        Assert.Null(PeerInactivity.Verdict(Active with { SinceUseful = TimeSpan.FromMinutes(9) }));
    }
}
