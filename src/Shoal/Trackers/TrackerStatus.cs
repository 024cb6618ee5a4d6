namespace Shoal.Trackers;

/// <summary>A snapshot of one tracker as the announcer sees it, for display.</summary>
/// <param name="Url">The tracker.</param>
/// <param name="Tier">Its BEP 12 tier, from 0.</param>
/// <param name="IsWorking">The last announce to it succeeded.</param>
/// <param name="LastError">Why the last announce failed (the tracker's failure reason when it sent one); null after a success.</param>
/// <param name="WarningMessage">The tracker's last warning message.</param>
/// <param name="LastAnnounce">When it last answered.</param>
/// <param name="NextAnnounce">When it may be announced to next.</param>
/// <param name="PeersReceived">Peers in its last answer.</param>
/// <param name="Seeders">Seeders it last reported.</param>
/// <param name="Leechers">Leechers it last reported.</param>
public sealed record TrackerStatus(
    Uri Url,
    int Tier,
    bool IsWorking,
    string? LastError,
    string? WarningMessage,
    DateTimeOffset? LastAnnounce,
    DateTimeOffset? NextAnnounce,
    int PeersReceived,
    int? Seeders,
    int? Leechers)
{
    /// <summary>
    /// When the last announce to it ended, answered or failed (null before the first); <see cref="LastAnnounce"/> is the
    /// last answer only. Remote interfaces show "last announce failed N minutes ago" from it.
    /// </summary>
    public DateTimeOffset? LastAttempt { get; init; }
}
