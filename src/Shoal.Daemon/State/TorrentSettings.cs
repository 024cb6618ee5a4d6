namespace Shoal.Daemon.State;

/// <summary>
/// The options of one torrent that the user can change at any time, stored as JSON in its row (so a new option
/// needs no schema migration). Zero limits mean "no limit of its own" (the session's still applies).
/// </summary>
public sealed record TorrentSettings
{
    /// <summary>Download cap in bytes per second; 0 is unlimited.</summary>
    public long DownloadLimit { get; init; }

    /// <summary>Upload cap in bytes per second; 0 is unlimited.</summary>
    public long UploadLimit { get; init; }

    /// <summary>Most peer connections of this torrent; 0 is the session's default.</summary>
    public int MaxConnections { get; init; }

    /// <summary>Upload slots of this torrent; 0 is the session's default.</summary>
    public int UploadSlots { get; init; }

    /// <summary>Download pieces in order (for playing while downloading).</summary>
    public bool Sequential { get; init; }

    /// <summary>The first and last piece of every wanted file come first (qBittorrent's "first and last piece priority").</summary>
    public bool FirstLastPiecePriority { get; init; }

    /// <summary>Stop seeding at this share ratio; null follows the session's goal, a negative value means never.</summary>
    public double? RatioLimit { get; init; }

    /// <summary>Stop after seeding this many minutes; null follows the session's goal, a negative value means never.</summary>
    public int? SeedingTimeLimitMinutes { get; init; }

    /// <summary>Stop after this many minutes seeding without uploading; null follows the session, negative means never.</summary>
    public int? IdleLimitMinutes { get; init; }

    /// <summary>Tracker URLs announced to besides the torrent's own, each in a tier of its own.</summary>
    public IReadOnlyList<string> Trackers { get; init; } = [];

    /// <summary>Structural equality including the tracker list (records compare lists by reference).</summary>
    public bool Equals(TorrentSettings? other) => other is not null
        && DownloadLimit == other.DownloadLimit && UploadLimit == other.UploadLimit
        && MaxConnections == other.MaxConnections && UploadSlots == other.UploadSlots && Sequential == other.Sequential
        && FirstLastPiecePriority == other.FirstLastPiecePriority
        && Nullable.Equals(RatioLimit, other.RatioLimit) && SeedingTimeLimitMinutes == other.SeedingTimeLimitMinutes
        && IdleLimitMinutes == other.IdleLimitMinutes && Trackers.SequenceEqual(other.Trackers, StringComparer.Ordinal);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(DownloadLimit, UploadLimit, MaxConnections, Sequential, Trackers.Count);
}
