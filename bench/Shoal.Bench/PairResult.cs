namespace Shoal.Bench;

/// <summary>One seeder-to-leecher transfer (or, with <see cref="Run"/> 0, the median of several).</summary>
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
    bool Verified,
    double LeecherSystemSeconds = double.NaN)
{
    public double MiBPerSecond => Bytes / 1048576.0 / WallSeconds;

    /// <summary>Decimal megabytes (10^6 bytes) per second, the unit of the targets.</summary>
    public double MBPerSecond => Bytes / 1e6 / WallSeconds;

    public double LeecherCpuPerGiB => LeecherCpuSeconds / (Bytes / (double)(1L << 30));

    public double SeederCpuPerGiB => SeederCpuSeconds / (Bytes / (double)(1L << 30));

    /// <summary>Run 0: each figure is the median of that figure over <paramref name="runs"/> (one scenario's runs).</summary>
    public static PairResult Median(IReadOnlyList<PairResult> runs) =>
        new(runs[0].Scenario, 0, runs[0].Bytes,
            Median(runs, r => r.WallSeconds), Median(runs, r => r.LeecherCpuSeconds), Median(runs, r => r.SeederCpuSeconds),
            (long)Median(runs, r => r.LeecherPeakRss), (long)Median(runs, r => r.SeederPeakRss),
            (long)Median(runs, r => r.LeecherPeakAnon), (long)Median(runs, r => r.SeederPeakAnon), runs.All(r => r.Verified),
            runs.Any(r => double.IsNaN(r.LeecherSystemSeconds)) ? double.NaN : Median(runs, r => r.LeecherSystemSeconds));

    private static double Median(IReadOnlyList<PairResult> runs, Func<PairResult, double> value)
    {
        var sorted = runs.Select(value).Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
