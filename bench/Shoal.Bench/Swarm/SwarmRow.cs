namespace Shoal.Bench.Swarm;

/// <summary>
/// One swarm of <see cref="Leechers"/> leechers: D (until the last leecher is done) against the fluid-model minimum
/// D_min and the client-server time, what each leecher took, who uploaded what, CPU, and copies that differ.
/// </summary>
internal sealed record SwarmRow(
    int Leechers,
    int Run,
    double DMinSeconds,
    double Seconds,
    double ClientServerSeconds,
    IReadOnlyList<(double Seconds, bool Libtorrent)> Finish,
    long SeederUploaded,
    long TotalUploaded,
    double CpuSeconds,
    double LtCpuSeconds,
    int BadCopies)
{
    /// <summary>D_min / D: 1 is the theoretical best.</summary>
    public double Efficiency => DMinSeconds / Seconds;
}
