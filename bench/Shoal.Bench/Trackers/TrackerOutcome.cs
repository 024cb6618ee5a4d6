namespace Shoal.Bench.Trackers;

/// <summary>What one <c>tracker</c> invocation measured, per protocol, with the load average around it.</summary>
internal sealed record TrackerOutcome(TrackerOptions Options, TrackerOutcome.Rate Udp, TrackerOutcome.Rate Http, string LoadBefore, string LoadAfter)
{
    /// <summary>Announces answered per second, the tracker process's CPU per announce, and requests lost or timed out.</summary>
    public readonly record struct Rate(double PerSecond, double CpuMicrosPerAnnounce, long Lost);
}
