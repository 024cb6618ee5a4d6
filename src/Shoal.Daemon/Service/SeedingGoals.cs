using Shoal.Daemon.State;

namespace Shoal.Daemon.Service;

/// <summary>
/// The daemon's seeding goals (a torrent's own, else the session's; minutes, negative for none) as the library's
/// <see cref="Swarm.SeedingGoals"/>, whose rules decide. Pure. The daemon applies them in its own status pass because
/// its counters span restarts (kept in its database), which the engine's do not.
/// </summary>
internal static class SeedingGoals
{
    /// <summary>Ratio shown for a torrent that uploaded but never downloaded anything (qBittorrent's cap).</summary>
    public const double MaxRatio = Swarm.SeedingGoals.MaxRatio;

    /// <inheritdoc cref="Swarm.SeedingGoals.ShareRatio"/>
    public static double Ratio(long uploaded, long downloaded, long doneBytes) => Swarm.SeedingGoals.ShareRatio(uploaded, downloaded, doneBytes);

    /// <summary>Whether the settings set any goal (a torrent's own null fields follow the session: they set none).</summary>
    public static bool AnySet(DaemonSettings session) => session.RatioLimit >= 0 || session.SeedingTimeLimitMinutes >= 0 || session.IdleLimitMinutes >= 0;

    /// <summary>Whether a torrent's own settings set any goal.</summary>
    public static bool AnySet(TorrentSettings own) => own.RatioLimit >= 0 || own.SeedingTimeLimitMinutes >= 0 || own.IdleLimitMinutes >= 0;

    /// <summary>Which goal a seeding torrent reached, in words; null while none is.</summary>
    /// <param name="own">The torrent's own goals (null fields follow the session).</param>
    /// <param name="session">The session's goals.</param>
    /// <param name="ratio">Its share ratio now.</param>
    /// <param name="seedingSeconds">Seconds it has seeded.</param>
    /// <param name="idleSeconds">Seconds since it last uploaded while seeding.</param>
    public static string? Reached(TorrentSettings own, DaemonSettings session, double ratio, long seedingSeconds, long idleSeconds)
    {
        // The status pass asks this of every seed every second: with no goal set (the default) nothing is built.
        if ((own.RatioLimit ?? session.RatioLimit) < 0 && (own.SeedingTimeLimitMinutes ?? session.SeedingTimeLimitMinutes) < 0
            && (own.IdleLimitMinutes ?? session.IdleLimitMinutes) < 0) return null;
        return Goals(own, session).DescribeReached(ratio, TimeSpan.FromSeconds(seedingSeconds), TimeSpan.FromSeconds(idleSeconds));
    }

    /// <summary>The goals that apply to a torrent with settings <paramref name="own"/> in a daemon with <paramref name="session"/>.</summary>
    public static Swarm.SeedingGoals Goals(TorrentSettings own, DaemonSettings session)
    {
        double ratio = own.RatioLimit ?? session.RatioLimit;
        int seeding = own.SeedingTimeLimitMinutes ?? session.SeedingTimeLimitMinutes;
        int idle = own.IdleLimitMinutes ?? session.IdleLimitMinutes;
        return new Swarm.SeedingGoals
        {
            Ratio = ratio >= 0 ? ratio : null,
            SeedingTime = seeding >= 0 ? TimeSpan.FromMinutes(seeding) : null,
            IdleTime = idle >= 0 ? TimeSpan.FromMinutes(idle) : null,
            Action = session.SeedingGoalAction == SeedingGoalAction.Remove ? Swarm.SeedingGoalAction.Remove : Swarm.SeedingGoalAction.Pause,
        };
    }
}
