namespace Shoal.Daemon.Service;

/// <summary>A change to one torrent's options: only the fields given change.</summary>
public sealed record TorrentOptionsPatch
{
    /// <summary>Download cap in bytes per second; 0 is none.</summary>
    public long? DownloadLimit { get; init; }

    /// <summary>Upload cap in bytes per second; 0 is none.</summary>
    public long? UploadLimit { get; init; }

    /// <summary>Most connections of the torrent; 0 is the session's default.</summary>
    public int? MaxConnections { get; init; }

    /// <summary>Upload slots of the torrent; 0 is the session's default.</summary>
    public int? UploadSlots { get; init; }

    /// <summary>Downloads pieces in order.</summary>
    public bool? Sequential { get; init; }

    /// <summary>Downloads the first and last piece of every wanted file first.</summary>
    public bool? FirstLastPiecePriority { get; init; }

    /// <summary>Ratio goal: a value, negative for none, or <see cref="double.NaN"/> to follow the session again.</summary>
    public double? RatioLimit { get; init; }

    /// <summary>Seeding-time goal in minutes: a value, -1 for none, or <see cref="FollowSession"/>.</summary>
    public int? SeedingTimeLimitMinutes { get; init; }

    /// <summary>Idle goal in minutes: a value, -1 for none, or <see cref="FollowSession"/>.</summary>
    public int? IdleLimitMinutes { get; init; }

    /// <summary>The extra trackers, replaced whole.</summary>
    public IReadOnlyList<string>? Trackers { get; init; }

    /// <summary>A goal value meaning "follow the session's goal again".</summary>
    public const int FollowSession = -2;
}
