namespace Shoal.Swarm;

// The seeding goals: one pass a second over the session's torrents (not a timer per torrent), pausing or removing the
// seeds that reached theirs.
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

    internal Task SetSeedingGoalsAsync(SessionTorrent entry, SeedingGoals? goals)
    {
        ThrowIfRemoved(entry);
        TorrentActor actor = entry.Actor;
        return actor.InvokeAsync(() => actor.SetSeedingGoals(goals));
    }

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

    /// <summary>One pass: counts each seed's time, then pauses or removes the ones that reached a goal.</summary>
    private async Task ApplySeedingGoalsAsync()
    {
        long now = _context.Time.GetTimestamp();
        SeedingGoals? sessionGoals = SeedingGoals;
        List<(SessionTorrent Entry, SeedingGoals Goals, string Why)>? reached = null;
        foreach (SessionTorrent entry in _torrents.Values)
        {
            TorrentActor actor = entry.Actor;
            TorrentStatus status = actor.Status;
            if (!entry.Seeding.Observe(status, now) || entry.Removed) continue;
            if ((actor.Options.SeedingGoals ?? sessionGoals) is not { } goals) continue;
            double ratio = Swarm.SeedingGoals.ShareRatio(status.Uploaded, status.Downloaded, status.VerifiedBytes);
            if (goals.DescribeReached(ratio, entry.Seeding.SeedingTime(_context.Time), entry.Seeding.IdleTime(_context.Time, now)) is { } why)
                (reached ??= []).Add((entry, goals, why));
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
}
