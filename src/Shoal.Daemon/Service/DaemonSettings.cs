namespace Shoal.Daemon.Service;

/// <summary>
/// The daemon's settings, changeable at run time through the API and kept in the database (one row per key, so a
/// setting added later needs no migration). Rates are bytes per second with 0 meaning unlimited; goals and limits
/// use a negative number for "none".
/// </summary>
public sealed record DaemonSettings
{
    /// <summary>Download cap of the whole daemon.</summary>
    public long DownloadLimit { get; init; }

    /// <summary>Upload cap of the whole daemon.</summary>
    public long UploadLimit { get; init; }

    /// <summary>Download cap while the alternative limits are in force.</summary>
    public long AltDownloadLimit { get; init; } = 1024 * 1024;

    /// <summary>Upload cap while the alternative limits are in force.</summary>
    public long AltUploadLimit { get; init; } = 256 * 1024;

    /// <summary>The alternative limits are switched on by hand.</summary>
    public bool AltSpeedEnabled { get; init; }

    /// <summary>The alternative limits switch on by themselves between <see cref="AltScheduleBegin"/> and <see cref="AltScheduleEnd"/>.</summary>
    public bool AltScheduleEnabled { get; init; }

    /// <summary>Minutes after local midnight when the scheduled alternative limits begin.</summary>
    public int AltScheduleBegin { get; init; } = 9 * 60;

    /// <summary>Minutes after local midnight when they end (earlier than the beginning: the period spans midnight).</summary>
    public int AltScheduleEnd { get; init; } = 17 * 60;

    /// <summary>Days of the schedule as Transmission's bit mask: 1 Sunday, 2 Monday, 4 Tuesday, ..., 64 Saturday; 127 every day.</summary>
    public int AltScheduleDays { get; init; } = 127;

    /// <summary>Most peer connections of the whole daemon.</summary>
    public int MaxConnections { get; init; } = 500;

    /// <summary>Most peer connections of one torrent.</summary>
    public int MaxConnectionsPerTorrent { get; init; } = 60;

    /// <summary>Upload slots of one torrent.</summary>
    public int UploadSlotsPerTorrent { get; init; } = 4;

    /// <summary>Only so many torrents run at once (below); the rest wait in the queue.</summary>
    public bool QueueingEnabled { get; init; } = true;

    /// <summary>Most torrents downloading at once (negative: no limit).</summary>
    public int MaxActiveDownloads { get; init; } = 5;

    /// <summary>Most torrents seeding at once (negative: no limit).</summary>
    public int MaxActiveSeeds { get; init; } = -1;

    /// <summary>Where torrents go when the request names no folder and their category none.</summary>
    public string DefaultSavePath { get; init; } = "";

    /// <summary>Where incomplete torrents live until they complete, when <see cref="IncompletePathEnabled"/>.</summary>
    public string IncompletePath { get; init; } = "";

    /// <summary>Incomplete torrents live in <see cref="IncompletePath"/>.</summary>
    public bool IncompletePathEnabled { get; init; }

    /// <summary>Seeding stops at this share ratio (negative: never). A torrent's own goal overrides it.</summary>
    public double RatioLimit { get; init; } = -1;

    /// <summary>Seeding stops after this many minutes (negative: never).</summary>
    public int SeedingTimeLimitMinutes { get; init; } = -1;

    /// <summary>Seeding stops after this many minutes without an upload (negative: never).</summary>
    public int IdleLimitMinutes { get; init; } = -1;

    /// <summary>What a torrent that reached a seeding goal does.</summary>
    public SeedingGoalAction SeedingGoalAction { get; init; } = SeedingGoalAction.Pause;

    /// <summary>The mainline DHT is on.</summary>
    public bool Dht { get; init; } = true;

    /// <summary>Local service discovery is on.</summary>
    public bool Lsd { get; init; } = true;

    /// <summary>Peer exchange is on.</summary>
    public bool Pex { get; init; } = true;

    /// <summary>Message stream encryption: "prefer" (encrypted first, plain accepted), "require" or "disable".</summary>
    public string Encryption { get; init; } = "prefer";

    /// <summary>The peer port is mapped on the router (UPnP IGD, NAT-PMP, PCP).</summary>
    public bool PortMapping { get; init; } = true;

    /// <summary>
    /// SSRF mitigation of web seeds and trackers (the engine's <c>SsrfMitigation</c>): a torrent cannot make the daemon
    /// query services on this machine or the local network.
    /// </summary>
    public bool SsrfMitigation { get; init; } = true;

    /// <summary>
    /// Host names the HTTP interface answers to besides IP literals and "localhost" (the defence against DNS
    /// rebinding: a page on another name cannot drive the daemon through a browser).
    /// </summary>
    public IReadOnlyList<string> AllowedHosts { get; init; } = [];

    /// <summary>Checks every value; returns the first problem in words, or null.</summary>
    public string? Validate()
    {
        if (DownloadLimit < 0 || UploadLimit < 0 || AltDownloadLimit < 0 || AltUploadLimit < 0) return "rate limits are 0 (unlimited) or more";
        if (AltScheduleBegin is < 0 or >= 1440 || AltScheduleEnd is < 0 or >= 1440) return "alt_schedule_begin and alt_schedule_end are minutes from 0 to 1439";
        if (AltScheduleDays is < 0 or > 127) return "alt_schedule_days is a bit mask from 0 to 127";
        if (MaxConnections is < 1 or > 65_535) return "max_connections is from 1 to 65535";
        if (MaxConnectionsPerTorrent is < 1 or > 10_000) return "max_connections_per_torrent is from 1 to 10000";
        if (UploadSlotsPerTorrent is < 1 or > 1_000) return "upload_slots_per_torrent is from 1 to 1000";
        if (MaxActiveDownloads > 100_000 || MaxActiveSeeds > 100_000) return "queue sizes are at most 100000 (negative: no limit)";
        if (double.IsNaN(RatioLimit) || double.IsInfinity(RatioLimit)) return "ratio_limit must be a number";
        if (string.IsNullOrWhiteSpace(DefaultSavePath)) return "default_save_path must name a folder";
        if (IncompletePathEnabled && string.IsNullOrWhiteSpace(IncompletePath)) return "incomplete_path must name a folder when incomplete_path_enabled";
        if (Encryption is not ("prefer" or "require" or "disable")) return "encryption is prefer, require or disable";
        if (AllowedHosts.Count > 100 || AllowedHosts.Any(h => string.IsNullOrWhiteSpace(h) || h.Length > 253)) return "allowed_hosts holds at most 100 host names";
        return null;
    }

    /// <summary>True when the alternative limits are in force at local time <paramref name="local"/>.</summary>
    public bool IsAltSpeedActive(DateTimeOffset local)
    {
        if (AltSpeedEnabled) return true;
        if (!AltScheduleEnabled) return false;
        int minute = local.Hour * 60 + local.Minute;
        int day = (int)local.DayOfWeek;
        if (AltScheduleBegin <= AltScheduleEnd)
        {
            return (AltScheduleDays & (1 << day)) != 0 && minute >= AltScheduleBegin && minute < AltScheduleEnd;
        }
        // Spans midnight: the evening part belongs to today, the early-morning part to the day before.
        if (minute >= AltScheduleBegin) return (AltScheduleDays & (1 << day)) != 0;
        if (minute < AltScheduleEnd) return (AltScheduleDays & (1 << ((day + 6) % 7))) != 0;
        return false;
    }

    /// <summary>Structural equality including the host list.</summary>
    public bool Equals(DaemonSettings? other) => other is not null
        && EqualityContract == other.EqualityContract
        && DownloadLimit == other.DownloadLimit && UploadLimit == other.UploadLimit
        && AltDownloadLimit == other.AltDownloadLimit && AltUploadLimit == other.AltUploadLimit
        && AltSpeedEnabled == other.AltSpeedEnabled && AltScheduleEnabled == other.AltScheduleEnabled
        && AltScheduleBegin == other.AltScheduleBegin && AltScheduleEnd == other.AltScheduleEnd && AltScheduleDays == other.AltScheduleDays
        && MaxConnections == other.MaxConnections && MaxConnectionsPerTorrent == other.MaxConnectionsPerTorrent
        && UploadSlotsPerTorrent == other.UploadSlotsPerTorrent && QueueingEnabled == other.QueueingEnabled
        && MaxActiveDownloads == other.MaxActiveDownloads && MaxActiveSeeds == other.MaxActiveSeeds
        && DefaultSavePath == other.DefaultSavePath && IncompletePath == other.IncompletePath
        && IncompletePathEnabled == other.IncompletePathEnabled && RatioLimit.Equals(other.RatioLimit)
        && SeedingTimeLimitMinutes == other.SeedingTimeLimitMinutes && IdleLimitMinutes == other.IdleLimitMinutes
        && SeedingGoalAction == other.SeedingGoalAction && Dht == other.Dht && Lsd == other.Lsd && Pex == other.Pex
        && Encryption == other.Encryption && PortMapping == other.PortMapping && SsrfMitigation == other.SsrfMitigation
        && AllowedHosts.SequenceEqual(other.AllowedHosts, StringComparer.OrdinalIgnoreCase);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(DownloadLimit, UploadLimit, MaxActiveDownloads, DefaultSavePath);
}
