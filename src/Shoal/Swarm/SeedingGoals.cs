using System.Globalization;

namespace Shoal.Swarm;

/// <summary>
/// When a seeding torrent has given enough, and what happens then (<see cref="Action"/>): a share ratio, a seeding time,
/// or a time without any upload, whichever comes first; a goal left null is not one. The session's goals
/// (<see cref="SessionOptions.SeedingGoals"/>, <see cref="ShoalSession.SetSeedingGoals"/>) apply to every torrent
/// without goals of its own (<see cref="TorrentOptions.SeedingGoals"/>, <see cref="TorrentHandle.SetSeedingGoalsAsync"/>).
/// Only time spent seeding (not paused, not queued) counts, and counters start when the torrent joins the session.
/// </summary>
public sealed record SeedingGoals
{
    /// <summary>Ratio shown for a torrent that uploaded but has nothing to divide by (qBittorrent's cap).</summary>
    public const double MaxRatio = 9999;

    /// <summary>Uploaded over downloaded (see <see cref="ShareRatio"/>) at which seeding stops; null: no ratio goal.</summary>
    public double? Ratio { get; init; }

    /// <summary>Time spent seeding after which seeding stops; null: no such goal.</summary>
    public TimeSpan? SeedingTime { get; init; }

    /// <summary>Time seeding without uploading a byte after which seeding stops; null: no such goal.</summary>
    public TimeSpan? IdleTime { get; init; }

    /// <summary>What happens to a torrent that reached a goal.</summary>
    public SeedingGoalAction Action { get; init; }

    /// <summary>
    /// The share ratio: uploaded over downloaded; when less than 1 % of the verified data was downloaded (a torrent
    /// added complete), over the verified data instead, as qBittorrent does, so seeding one's own files still has a ratio.
    /// At most <see cref="MaxRatio"/>.
    /// </summary>
    public static double ShareRatio(long uploaded, long downloaded, long verifiedBytes)
    {
        long basis = downloaded < verifiedBytes / 100 ? verifiedBytes : downloaded;
        if (basis <= 0) return uploaded > 0 ? MaxRatio : 0;
        return Math.Min(MaxRatio, (double)uploaded / basis);
    }

    /// <summary>Which goal a seeding torrent with these figures reached, in words; null while none is.</summary>
    public string? DescribeReached(double ratio, TimeSpan seedingTime, TimeSpan idleTime)
    {
        if (Ratio is { } goal && goal >= 0 && ratio >= goal)
            return string.Create(CultureInfo.InvariantCulture, $"ratio {ratio:0.00} reached the goal of {goal:0.00}");
        if (SeedingTime is { } seeding && seeding >= TimeSpan.Zero && seedingTime >= seeding)
            return string.Create(CultureInfo.InvariantCulture, $"seeded {(long)seedingTime.TotalMinutes} minutes, the goal is {(long)seeding.TotalMinutes}");
        if (IdleTime is { } idle && idle >= TimeSpan.Zero && idleTime >= idle)
            return string.Create(CultureInfo.InvariantCulture, $"no upload for {(long)idleTime.TotalMinutes} minutes, the goal is {(long)idle.TotalMinutes}");
        return null;
    }
}
