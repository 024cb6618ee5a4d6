namespace Shoal.Daemon.State;

/// <summary>
/// One torrent's counters over its whole life in the daemon. Written in batches every few seconds, so a crash
/// loses at most that much of them.
/// </summary>
/// <param name="Uploaded">Payload bytes uploaded, all runs together.</param>
/// <param name="Downloaded">Payload bytes downloaded, all runs together.</param>
/// <param name="SeedingSeconds">Seconds spent seeding.</param>
/// <param name="ActiveSeconds">Seconds spent running (downloading or seeding).</param>
/// <param name="DoneBytes">Verified bytes of wanted data when last written (shown for a torrent that is not running).</param>
/// <param name="CompletedAt">When the download last completed; null while incomplete.</param>
/// <param name="LastActivity">When a payload byte last moved either way; null if never.</param>
public sealed record TorrentTotals(
    long Uploaded,
    long Downloaded,
    long SeedingSeconds,
    long ActiveSeconds,
    long DoneBytes,
    DateTimeOffset? CompletedAt,
    DateTimeOffset? LastActivity)
{
    /// <summary>A torrent that has done nothing yet.</summary>
    public static TorrentTotals Zero { get; } = new(0, 0, 0, 0, 0, null, null);
}
