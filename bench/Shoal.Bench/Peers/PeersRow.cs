namespace Shoal.Bench.Peers;

/// <summary>
/// One N: the seeder's memory growth per idle connection (KiB of VmRSS, RssAnon, RssAnon after a full GC) against
/// its baseline, then what N active downloaders got and what it cost the seeder.
/// </summary>
internal sealed record PeersRow(int Count, double IdleRssKiB, double IdleAnonKiB, double IdleAnonAfterGcKiB, long BaseRss, long BaseAnon,
    long ActiveBytes, double ActiveSeconds, double ActiveCpu, int PeersServed, long ActivePeakAnon)
{
    public double MiBPerSecond => ActiveBytes / 1048576.0 / ActiveSeconds;

    public double CpuPerGiB => ActiveBytes == 0 ? double.NaN : ActiveCpu / (ActiveBytes / (double)(1L << 30));
}
