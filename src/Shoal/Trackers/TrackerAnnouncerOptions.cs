namespace Shoal.Trackers;

/// <summary>Tuning of <see cref="TrackerAnnouncer"/>.</summary>
public sealed record TrackerAnnouncerOptions
{
    /// <summary>Peers asked for in each announce.</summary>
    public int NumWant { get; init; } = 50;

    /// <summary>Time allowed for one announce to one tracker before the next tracker is tried.</summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Wait before retrying a tracker after its first failure; doubled after each further failure.</summary>
    public TimeSpan RetryBase { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Longest wait before retrying a failed tracker.</summary>
    public TimeSpan RetryMax { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>Shortest interval accepted from a tracker: a tracker saying 0 must not make us hammer it.</summary>
    public TimeSpan MinimumInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Longest interval accepted from a tracker, so a bad value cannot silence us for days.</summary>
    public TimeSpan MaximumInterval { get; init; } = TimeSpan.FromHours(3);

    /// <summary>Shuffles each tier once (BEP 12); a seeded instance makes tests deterministic. Null: one seeded from the OS.</summary>
    public Random? Random { get; init; }

    /// <summary>Called (on the announce loop) when an announce to a tracker fails, with the tracker's URL and why.</summary>
    public Action<Uri, string>? AnnounceFailed { get; init; }
}
