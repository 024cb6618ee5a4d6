using Shoal.Metainfo;

namespace Shoal.Swarm;

// The seeding goals: one pass a second (not a timer per torrent) over the torrents whose status changed and those with a
// goal, pausing or removing the seeds that reached theirs.
public sealed partial class ShoalSession
{
    /// <summary>How often the goals are looked at: how late, at most, a goal is acted on.</summary>
    private static readonly TimeSpan SeedingGoalsInterval = TimeSpan.FromSeconds(1);

    private SeedingGoals? _seedingGoals;

    /// <summary>The session's clock.</summary>
    internal TimeProvider Time => _context.Time;

    /// <summary>The goals of every torrent without goals of its own; null: none.</summary>
    public SeedingGoals? SeedingGoals => Volatile.Read(ref _seedingGoals);

    /// <summary>
    /// Changes the session's seeding goals (null: none) at once: every torrent without goals of its own follows them from
    /// the next pass (within a second), counting what it did before the change.
    /// </summary>
    public void SetSeedingGoals(SeedingGoals? goals) => Volatile.Write(ref _seedingGoals, goals);

    internal async Task SetSeedingGoalsAsync(SessionTorrent entry, SeedingGoals? goals)
    {
        ThrowIfRemoved(entry);
        TorrentActor actor = entry.Actor;
        await actor.InvokeAsync(() => actor.SetSeedingGoals(goals)).ConfigureAwait(false);
        if (goals is null) _ownGoals.TryRemove(entry, out _);
        else _ownGoals[entry] = 0;
    }

    /// <summary>The torrents with goals of their own: the pass looks at them every second, whatever changed.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<SessionTorrent, byte> _ownGoals = new();

    /// <summary>A torrent joined the session: with goals of its own, the pass looks at it every second.</summary>
    private void WatchOwnGoals(SessionTorrent entry)
    {
        if (entry.Actor.Options.SeedingGoals is not null) _ownGoals[entry] = 0;
    }

    /// <summary>Torrents the goal pass has looked at since the session started (what an idle session costs; tests read it).</summary>
    internal long StatusVisits => Interlocked.Read(ref _statusVisits);

    private long _statusVisits;

    private async Task SeedingGoalsLoopAsync()
    {
        CancellationToken stop = _shutdown.Token;
        try
        {
            while (true)
            {
                await Task.Delay(SeedingGoalsInterval, _context.Time, stop).ConfigureAwait(false);
                await ApplySeedingGoalsAsync().ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// One pass: shows the seeding clocks the statuses that changed since the last pass, then looks for goals reached
    /// among the torrents that have one (every seed under the session's goals; else those with goals of their own). A
    /// torrent whose status did not change and that has no goal is not visited: an idle session costs nothing per torrent.
    /// </summary>
    private async Task ApplySeedingGoalsAsync()
    {
        long now = _context.Time.GetTimestamp();
        SeedingGoals? sessionGoals = SeedingGoals;
        foreach (InfoHash changed in _context.StatusChanges.Take())
        {
            if (_torrents.TryGetValue(changed, out SessionTorrent? entry)) Observe(entry, now);
        }
        List<(SessionTorrent Entry, SeedingGoals Goals, string Why)>? reached = null;
        if (sessionGoals is not null)
        {
            foreach (SessionTorrent entry in _torrents.Values) Check(entry, sessionGoals, now, ref reached);
        }
        else if (!_ownGoals.IsEmpty)
        {
            foreach (SessionTorrent entry in _ownGoals.Keys)
            {
                if (entry.Removed) _ownGoals.TryRemove(entry, out _);
                else Check(entry, null, now, ref reached);
            }
        }
        if (reached is null) return;
        foreach ((SessionTorrent entry, SeedingGoals goals, string why) in reached)
        {
            TorrentActor actor = entry.Actor;
            _context.Log($"{actor.Name}: seeding goal reached ({why}): {(goals.Action == SeedingGoalAction.Remove ? "removed" : "paused")}");
            _context.Events.Publish(new SessionEvent(SessionEventKind.SeedingGoalReached, actor.InfoHash, actor.Name, actor.Status.State, why));
            try
            {
                if (goals.Action == SeedingGoalAction.Remove) await RemoveAsync(entry).ConfigureAwait(false);
                else await PauseAsync(entry).ConfigureAwait(false);
            }
            catch (InvalidOperationException)
            {
                // Removed meanwhile, or stopped on an error: nothing left to do.
            }
        }
    }

    private bool Observe(SessionTorrent entry, long now)
    {
        Interlocked.Increment(ref _statusVisits);
        return entry.Seeding.Observe(entry.Actor.Status, now);
    }

    private void Check(SessionTorrent entry, SeedingGoals? sessionGoals, long now, ref List<(SessionTorrent Entry, SeedingGoals Goals, string Why)>? reached)
    {
        TorrentActor actor = entry.Actor;
        if ((actor.Options.SeedingGoals ?? sessionGoals) is not { } goals) return;
        if (!Observe(entry, now) || entry.Removed) return;
        TorrentStatus status = actor.Status;
        double ratio = Swarm.SeedingGoals.ShareRatio(status.Uploaded, status.Downloaded, status.VerifiedBytes);
        if (goals.DescribeReached(ratio, entry.Seeding.SeedingTime(_context.Time, now), entry.Seeding.IdleTime(_context.Time, now)) is { } why)
            (reached ??= []).Add((entry, goals, why));
    }
}
