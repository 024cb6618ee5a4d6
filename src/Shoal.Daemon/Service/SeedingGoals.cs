using System.Globalization;
using Shoal.Daemon.State;

namespace Shoal.Daemon.Service;

/// <summary>The seeding goals: when a seeding torrent has given enough. Pure.</summary>
internal static class SeedingGoals
{
    /// <summary>Ratio shown for a torrent that uploaded but never downloaded anything (qBittorrent's cap).</summary>
    public const double MaxRatio = 9999;

    /// <summary>
    /// Uploaded over downloaded; when less than 1 % of the verified data was downloaded here (a torrent added
    /// complete), over the verified data instead, as qBittorrent does, so seeding an existing file still has a ratio.
    /// </summary>
    public static double Ratio(long uploaded, long downloaded, long doneBytes)
    {
        long basis = downloaded < doneBytes / 100 ? doneBytes : downloaded;
        if (basis <= 0) return uploaded > 0 ? MaxRatio : 0;
        return Math.Min(MaxRatio, (double)uploaded / basis);
    }

    /// <summary>Which goal a seeding torrent reached, in words; null while none is.</summary>
    /// <param name="own">The torrent's own goals (null fields follow the session).</param>
    /// <param name="session">The session's goals.</param>
    /// <param name="ratio">Its share ratio now.</param>
    /// <param name="seedingSeconds">Seconds it has seeded.</param>
    /// <param name="idleSeconds">Seconds since it last uploaded while seeding.</param>
    public static string? Reached(TorrentSettings own, DaemonSettings session, double ratio, long seedingSeconds, long idleSeconds)
    {
        double ratioLimit = own.RatioLimit ?? session.RatioLimit;
        if (ratioLimit >= 0 && ratio >= ratioLimit)
            return string.Create(CultureInfo.InvariantCulture, $"ratio {ratio:0.00} reached the goal of {ratioLimit:0.00}");
        int seedingLimit = own.SeedingTimeLimitMinutes ?? session.SeedingTimeLimitMinutes;
        if (seedingLimit >= 0 && seedingSeconds >= seedingLimit * 60L)
            return string.Create(CultureInfo.InvariantCulture, $"seeded {seedingSeconds / 60} minutes, the goal is {seedingLimit}");
        int idleLimit = own.IdleLimitMinutes ?? session.IdleLimitMinutes;
        if (idleLimit >= 0 && idleSeconds >= idleLimit * 60L)
            return string.Create(CultureInfo.InvariantCulture, $"no upload for {idleSeconds / 60} minutes, the goal is {idleLimit}");
        return null;
    }
}
