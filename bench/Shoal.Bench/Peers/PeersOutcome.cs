namespace Shoal.Bench.Peers;

/// <summary>What one <c>peers</c> invocation measured: a row per connection count.</summary>
internal sealed record PeersOutcome(PeersOptions Options, long PieceLength, IReadOnlyList<PeersRow> Rows);
