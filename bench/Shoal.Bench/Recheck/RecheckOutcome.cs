namespace Shoal.Bench.Recheck;

/// <summary>What one <c>recheck</c> invocation measured: this machine's SHA-1 rate and one row per check.</summary>
internal sealed record RecheckOutcome(
    RecheckOptions Options,
    int PieceCount,
    double Sha1MBps,
    double WarmReadMBps,
    IReadOnlyList<RecheckOutcome.Row> Rows)
{
    /// <summary>One full check. <paramref name="Concurrency"/> 0 is the disk service's default.</summary>
    public sealed record Row(string Label, int Concurrency, int Run, double Seconds, double MBps, double CpuSeconds, int PiecesVerified, int Pieces);

    /// <summary>Every check verified every piece of the intact file.</summary>
    public bool Succeeded => Rows.All(r => r.PiecesVerified == r.Pieces);

    /// <summary>Median MB/s of the checks at <paramref name="concurrency"/> (0 = default), or NaN when there were none.</summary>
    public double MedianMBps(int concurrency)
    {
        double[] v = [.. Rows.Where(r => r.Concurrency == concurrency).Select(r => r.MBps).Order()];
        return v.Length == 0 ? double.NaN : v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
    }
}
