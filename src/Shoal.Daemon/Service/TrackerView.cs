namespace Shoal.Daemon.Service;

/// <summary>One tracker of a torrent.</summary>
/// <param name="Url">Announce URL.</param>
/// <param name="Tier">BEP 12 tier, from 0.</param>
/// <param name="Status">"working", "error" or "not contacted".</param>
/// <param name="LastError">Why the last announce failed.</param>
/// <param name="Message">The tracker's last warning message.</param>
/// <param name="LastAnnounce">When it last answered.</param>
/// <param name="NextAnnounce">When it will be asked next.</param>
/// <param name="Peers">Peers in its last answer.</param>
/// <param name="Seeds">Seeders it reported.</param>
/// <param name="Leechers">Leechers it reported.</param>
public sealed record TrackerView(
    string Url,
    int Tier,
    string Status,
    string? LastError,
    string? Message,
    DateTimeOffset? LastAnnounce,
    DateTimeOffset? NextAnnounce,
    int Peers,
    int? Seeds,
    int? Leechers)
{
    /// <summary>When its last announce ended, answered or failed (<see cref="LastAnnounce"/> is the last answer).</summary>
    public DateTimeOffset? LastAttempt { get; init; }
}
