namespace Shoal.Bench;

/// <summary>What one <c>pair</c> invocation measured: every successful run, and a one-line reason for each failed one.</summary>
internal sealed record PairOutcome(IReadOnlyList<PairResult> Results, IReadOnlyList<string> Failures, long PieceLength)
{
    /// <summary>No run failed and every download was byte-identical.</summary>
    public bool Succeeded => Failures.Count == 0 && Results.All(r => r.Verified);

    /// <summary>The median of every figure over the scenario's runs, in the order the scenarios first ran.</summary>
    public IReadOnlyList<PairResult> Medians() => [.. Results.GroupBy(r => r.Scenario).Select(g => PairResult.Median(g.ToList()))];
}
