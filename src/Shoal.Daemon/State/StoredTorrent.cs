namespace Shoal.Daemon.State;

/// <summary>One torrent as loaded from the database at start.</summary>
/// <param name="Record">What it is and what the user asked of it.</param>
/// <param name="Totals">Its counters.</param>
/// <param name="Resume">Its fast-resume data as the engine serialized it; null when none was saved.</param>
public sealed record StoredTorrent(TorrentRecord Record, TorrentTotals Totals, byte[]? Resume);
