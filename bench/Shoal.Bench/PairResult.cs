namespace Shoal.Bench;

/// <summary>One seeder-to-leecher transfer.</summary>
internal sealed record PairResult(
    string Scenario,
    int Run,
    long Bytes,
    double WallSeconds,
    double LeecherCpuSeconds,
    double SeederCpuSeconds,
    long LeecherPeakRss,
    long SeederPeakRss,
    long LeecherPeakAnon,
    long SeederPeakAnon,
    bool Verified)
{
    public double MiBPerSecond => Bytes / 1048576.0 / WallSeconds;
}
