using Shoal.Daemon.State;

namespace Shoal.Daemon.Service;

/// <summary>One torrent as the queue sees it.</summary>
/// <param name="Mode">What the user asked.</param>
/// <param name="Complete">Every wanted piece is verified (it would seed).</param>
/// <param name="Errored">Stopped by an error: it runs again only when the user resumes it.</param>
internal readonly record struct QueueEntry(RunMode Mode, bool Complete, bool Errored);

/// <summary>
/// Decides which torrents run: in queue order, started torrents take the download slots (incomplete ones) and the
/// seeding slots (complete ones) until each kind's limit is reached; force-started torrents always run and take no
/// slot; paused and errored ones never run. Pure, so the whole rule is testable alone.
/// </summary>
internal static class QueuePlanner
{
    /// <summary>For each entry (in queue order), whether it runs.</summary>
    /// <param name="ordered">The torrents in queue order.</param>
    /// <param name="enabled">False: every started torrent runs.</param>
    /// <param name="maxDownloads">Download slots; negative is unlimited.</param>
    /// <param name="maxSeeds">Seeding slots; negative is unlimited.</param>
    public static bool[] Plan(IReadOnlyList<QueueEntry> ordered, bool enabled, int maxDownloads, int maxSeeds)
    {
        ArgumentNullException.ThrowIfNull(ordered);
        var run = new bool[ordered.Count];
        int downloads = 0, seeds = 0;
        for (int i = 0; i < ordered.Count; i++)
        {
            QueueEntry entry = ordered[i];
            if (entry.Errored || entry.Mode == RunMode.Paused) continue;
            if (entry.Mode == RunMode.Forced || !enabled)
            {
                run[i] = true;
                continue;
            }
            if (entry.Complete)
            {
                if (maxSeeds < 0 || seeds < maxSeeds) { run[i] = true; seeds++; }
            }
            else if (maxDownloads < 0 || downloads < maxDownloads)
            {
                run[i] = true;
                downloads++;
            }
        }
        return run;
    }
}
