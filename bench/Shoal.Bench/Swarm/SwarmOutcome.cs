namespace Shoal.Bench.Swarm;

/// <summary>What one <c>swarm</c> invocation measured: a row per swarm run, and a one-line reason for each failed one.</summary>
internal sealed record SwarmOutcome(
    SwarmOptions Options,
    int PieceCount,
    long PieceLength,
    string? LibtorrentVersion,
    IReadOnlyList<SwarmRow> Rows,
    IReadOnlyList<string> Failures)
{
    /// <summary>No swarm failed and every leecher's copy was byte-identical.</summary>
    public bool Succeeded => Failures.Count == 0 && Rows.All(r => r.BadCopies == 0);
}
