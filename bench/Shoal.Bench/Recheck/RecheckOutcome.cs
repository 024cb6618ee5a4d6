using Shoal.Metainfo;

namespace Shoal.Bench.Recheck;

/// <summary>
/// What one <c>recheck</c> invocation measured: this machine's single-core hash rates the check needs (SHA-1 for v1,
/// SHA-256 for v2, both for a hybrid; NaN when not measured) and one row per check.
/// </summary>
internal sealed record RecheckOutcome(
    RecheckOptions Options,
    int PieceCount,
    double Sha1MBps,
    double WarmReadMBps,
    IReadOnlyList<RecheckOutcome.Row> Rows,
    double Sha256MBps = double.NaN)
{
    /// <summary>
    /// What one core does alone on this torrent's data: SHA-1 (v1), SHA-256 (v2), or both over every byte (a hybrid:
    /// 1 / (1/SHA-1 + 1/SHA-256)). The check's throughput is compared with it.
    /// </summary>
    public double ReferenceMBps => Options.Version switch
    {
        TorrentVersion.V2 => Sha256MBps,
        TorrentVersion.Hybrid => 1 / (1 / Sha1MBps + 1 / Sha256MBps),
        _ => Sha1MBps,
    };

    /// <summary>The reference's name in reports.</summary>
    public string ReferenceName => Options.Version switch
    {
        TorrentVersion.V2 => "one core's SHA-256",
        TorrentVersion.Hybrid => "one core's SHA-1 + SHA-256",
        _ => "one core's SHA-1",
    };

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
