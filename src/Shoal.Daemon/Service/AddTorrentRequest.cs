namespace Shoal.Daemon.Service;

/// <summary>What to add and how. Exactly one of <see cref="Metainfo"/> and <see cref="Uri"/> is given.</summary>
public sealed record AddTorrentRequest
{
    /// <summary>A .torrent file's bytes.</summary>
    public byte[]? Metainfo { get; init; }

    /// <summary>A magnet link, or an http(s) URL of a .torrent file (or of a redirect to a magnet link).</summary>
    public string? Uri { get; init; }

    /// <summary>Folder for the content; null: the category's folder, else the default folder.</summary>
    public string? SavePath { get; init; }

    /// <summary>Added paused (nothing connects until it is resumed).</summary>
    public bool Paused { get; init; }

    /// <summary>Runs whatever the queue says.</summary>
    public bool ForceStart { get; init; }

    /// <summary>Downloads pieces in order.</summary>
    public bool Sequential { get; init; }

    /// <summary>Downloads the first and last piece of every wanted file first.</summary>
    public bool FirstLastPiecePriority { get; init; }

    /// <summary>Its category (created when missing, with the default folder).</summary>
    public string? Category { get; init; }

    /// <summary>Its tags (created when missing).</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>Priorities by file index; files past the list's end are normal. Kept until a magnet's metadata arrives.</summary>
    public IReadOnlyList<FilePriority>? FilePriorities { get; init; }

    /// <summary>Trackers to announce to besides the torrent's own.</summary>
    public IReadOnlyList<string> Trackers { get; init; } = [];

    /// <summary>Download cap in bytes per second; 0 is none.</summary>
    public long DownloadLimit { get; init; }

    /// <summary>Upload cap in bytes per second; 0 is none.</summary>
    public long UploadLimit { get; init; }

    /// <summary>Its own ratio goal (null: the session's; negative: none).</summary>
    public double? RatioLimit { get; init; }

    /// <summary>Its own seeding-time goal in minutes (null: the session's; negative: none).</summary>
    public int? SeedingTimeLimitMinutes { get; init; }

    /// <summary>Its own idle goal in minutes (null: the session's; negative: none).</summary>
    public int? IdleLimitMinutes { get; init; }
}
