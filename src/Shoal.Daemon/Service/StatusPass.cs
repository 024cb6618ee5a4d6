using System.Globalization;
using Microsoft.Extensions.Logging;
using Shoal.Daemon.State;
using Shoal.Swarm;

namespace Shoal.Daemon.Service;

/// <summary>
/// The service's once-a-second pass over its torrents, on the loop: reads the engine snapshot (state, counters,
/// metadata) of each running torrent whose snapshot is a new one, raises the events, applies the seeding goals and the
/// queue, rebuilds the rows that changed (one <see cref="DaemonEventKind.Updated"/> event for all of them), and every few
/// seconds writes the changed counters in one transaction. A torrent whose snapshot did not change (an idle seed) costs
/// a few comparisons.
/// </summary>
internal sealed class StatusPass(ServiceContext context, EngineReconciler engine, Func<ServiceTorrent, string, Task> removeForGoal)
{
    /// <summary>How often counters are written: what a crash may lose of them.</summary>
    public static readonly TimeSpan CounterInterval = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How often the time counters of running torrents are written even though nothing else of them changed (they are kept
    /// as the time a stretch began, so they move without a write): what a crash may lose of seeding and active time.
    /// </summary>
    public static readonly TimeSpan TimeCounterInterval = TimeSpan.FromMinutes(5);

    /// <summary>How often the queue is planned even when nothing the pass was told of changed (a safety net).</summary>
    public const int PlanEveryTicks = 10;

    /// <summary>Starts and stops torrents in the engine.</summary>
    public EngineReconciler Engine => engine;

    private long _lastCounterWrite = context.Time.GetTimestamp();
    private long _lastTimeWrite = context.Time.GetTimestamp();
    private long _tickCount;
    private DaemonSettings? _plannedWith;

    /// <summary>Engine statuses the pass has looked at since the daemon started (what an idle daemon costs; tests read it).</summary>
    public long Observed { get; private set; }

    /// <summary>Counter rows written since the daemon started (tests read it).</summary>
    public long CounterRowsWritten { get; private set; }

    /// <summary>
    /// One pass. Loop only. A running torrent is looked at when its engine status is a new one (the engine publishes one
    /// only when something changed: an idle seed publishes nothing) or the service changed something of it the status
    /// reflects; time counters are kept as timestamps, so an unchanged torrent costs a reference comparison.
    /// </summary>
    public async Task TickAsync()
    {
        long now = context.Time.GetTimestamp();
        _tickCount++;
        DateTimeOffset wallNow = context.Now;
        DaemonSettings settings = context.Settings;
        List<(ServiceTorrent Torrent, string Reason)>? goals = null;
        FlushResume();
        // The session's caps follow the settings at once and the alternative-speed schedule within a second.
        context.Engine.ApplyRates(settings, context.Time.GetLocalNow());

        bool anyGoal = SeedingGoals.AnySet(settings);
        bool changed = false;
        foreach (ServiceTorrent t in context.Torrents.All)
        {
            if (t.Handle is not { } handle) continue;
            TorrentStatus s = handle.GetStatus();
            if (!ReferenceEquals(s, t.ObservedStatus) || t.ObservedPaused != t.EnginePaused || t.CheckOnly)
            {
                Observe(t, handle, s, wallNow);
                changed = true;
            }
            if (t.Activity == TorrentActivity.Seeding && t.Record.RunMode != RunMode.Paused && (anyGoal || SeedingGoals.AnySet(t.Record.Settings)))
            {
                long idle = (long)(wallNow - (t.LastSeedUpload ?? wallNow)).TotalSeconds;
                double ratio = SeedingGoals.Ratio(t.Uploaded, t.Downloaded, t.DoneBytes);
                if (SeedingGoals.Reached(t.Record.Settings, settings, ratio, t.SeedingSeconds, idle) is { } reason)
                {
                    (goals ??= []).Add((t, reason));
                }
            }
        }
        if (goals is not null)
        {
            foreach ((ServiceTorrent t, string reason) in goals) await ApplyGoalAsync(t, reason, settings.SeedingGoalAction).ConfigureAwait(false);
        }
        // The queue is planned again when something it reads may have changed, and every few seconds whatever happened.
        if (changed || goals is not null || context.PlanRequested || !ReferenceEquals(settings, _plannedWith) || _tickCount % PlanEveryTicks == 0)
        {
            PlanQueue();
        }
        // Time counters alone change every second; their rows are refreshed once a minute unless something else changed.
        PublishChanges(refreshTimes: _tickCount % 60 == 0);
        if (context.Time.GetElapsedTime(_lastCounterWrite, now) >= CounterInterval) WriteCounters();
    }

    /// <summary>Reads one running torrent's snapshot and raises what changed. Loop only.</summary>
    private void Observe(ServiceTorrent t, TorrentHandle handle, TorrentStatus s, DateTimeOffset now)
    {
        Observed++;
        t.ObservedStatus = s;
        t.ObservedPaused = t.EnginePaused;
        TorrentStatus? previous = t.Status;
        t.Status = s;
        if (previous is null || ShownValuesDiffer(previous, s)) t.ViewDirty = true;
        if (t.Metainfo is null && handle.Torrent is { } metainfo) OnMetadata(t, metainfo);

        if (previous is null || s.Downloaded != previous.Downloaded || s.Uploaded != previous.Uploaded)
        {
            if (previous is not null) t.LastActivity = now;
            if (previous is not null && s.Uploaded != previous.Uploaded) t.LastSeedUpload = now;
            t.TotalsDirty = true;
        }
        if (s.VerifiedBytes != t.DoneBytes && s.State != TorrentState.Checking || s.State == TorrentState.Checking && s.VerifiedBytes > t.DoneBytes)
        {
            t.DoneBytes = s.VerifiedBytes;
            t.TotalsDirty = true;
        }
        if (t.TrackTime(s.State)) t.TotalsDirty = true;
        if (s.State == TorrentState.Seeding)
        {
            t.LastSeedUpload ??= now;
        }
        else
        {
            t.LastSeedUpload = null;
        }

        // A check run while paused (a verify of a stopped torrent) ends paused, not seeding: its status's progress says
        // whether everything is there. CheckOnly is cleared below, once this has been seen.
        bool checkedWhilePaused = t.CheckOnly && s.State is TorrentState.Suspended or TorrentState.Queued;
        if (checkedWhilePaused && s.Progress < 1 && t.Complete)
        {
            t.Complete = false;
            t.CompletedAt = null;
            t.TotalsDirty = true;
        }
        if ((s.State == TorrentState.Seeding || checkedWhilePaused && s.Progress >= 1) && !t.Complete)
        {
            t.Complete = true;
            t.CompletedAt ??= now;
            t.TotalsDirty = true;
            context.Events.Publish(DaemonEventKind.Finished, t.Id, t.Record.InfoHash.ToHex(), t.Record.Name, TorrentActivity.Seeding,
                $"{t.Record.Name} is complete");
            context.Log.LogInformation("{Name} finished", t.Record.Name);
            // Every wanted file is complete at once when the torrent is.
            if (t.Metainfo is { } m)
            {
                for (int i = 0; i < m.Files.Count; i++)
                {
                    if (t.Record.FilePriorities is { } p && i < p.Length && p[i] == (byte)FilePriority.Skip) continue;
                    if (m.Files[i].IsPadding) continue;
                    context.Events.Publish(DaemonEventKind.FileCompleted, t.Id, t.Record.InfoHash.ToHex(), t.Record.Name, fileIndex: i, message: m.Files[i].Path);
                }
            }
        }
        else if (s.State == TorrentState.Downloading && t.Complete)
        {
            // More was wanted (a skipped file un-skipped): no longer complete.
            t.Complete = false;
            t.CompletedAt = null;
            t.TotalsDirty = true;
        }
        if (s.State == TorrentState.Error)
        {
            t.Error = s.Error ?? "the torrent stopped on an error";
            context.Log.LogWarning("{Name} stopped: {Error}", t.Record.Name, t.Error);
            context.Events.Publish(DaemonEventKind.Error, t.Id, t.Record.InfoHash.ToHex(), t.Record.Name, TorrentActivity.Error, t.Error);
        }
        if (t.CheckOnly && s.State is not (TorrentState.Checking or TorrentState.FetchingMetadata))
        {
            t.CheckOnly = false;
        }
        if (!t.EnginePaused || CheckingInEngine(t)) SetActivity(t, RunningActivity(t, s));
    }

    /// <summary>Whether a row built from <paramref name="b"/> would differ from one built from <paramref name="a"/> (times aside).</summary>
    private static bool ShownValuesDiffer(TorrentStatus a, TorrentStatus b) =>
        a.State != b.State || a.VerifiedBytes != b.VerifiedBytes || a.DownloadRate != b.DownloadRate || a.UploadRate != b.UploadRate
        || a.Peers != b.Peers || a.Seeds != b.Seeds || a.Downloaded != b.Downloaded || a.Uploaded != b.Uploaded
        || a.VerifiedPieces != b.VerifiedPieces || a.Error != b.Error;

    private (TorrentActivity Activity, string Reason) RunningActivity(ServiceTorrent t, TorrentStatus s) => s.State switch
    {
        TorrentState.FetchingMetadata => (TorrentActivity.FetchingMetadata, s.Peers == 0 ? "fetching metadata: looking for peers" : $"fetching metadata from {Peers(s.Peers)}"),
        TorrentState.Checking => (TorrentActivity.Checking, string.Create(CultureInfo.InvariantCulture, $"checking the data on disk ({s.VerifiedPieces} of {s.PieceCount} pieces verified)")),
        TorrentState.Downloading => (TorrentActivity.Downloading, s.Peers == 0 ? "downloading: looking for peers" : s.DownloadRate == 0 ? $"downloading: stalled, {Peers(s.Peers)} connected" : $"downloading from {Peers(s.Peers)}"),
        TorrentState.Seeding => (TorrentActivity.Seeding, s.Peers == 0 ? "seeding: no peers connected" : $"seeding to {Peers(s.Peers)}"),
        TorrentState.Paused => (TorrentActivity.Downloading, $"writing to disk fails, retrying: {s.Error}"),
        TorrentState.Error => (TorrentActivity.Error, t.Error ?? "error"),
        _ => (TorrentActivity.Paused, "stopping"),
    };

    private static string Peers(int n) => n == 1 ? "1 peer" : $"{n} peers";

    private void OnMetadata(ServiceTorrent t, Metainfo.Torrent metainfo)
    {
        t.Metainfo = metainfo;
        byte[]? priorities = t.Record.FilePriorities;
        if (priorities is not null && priorities.Length != metainfo.Files.Count)
        {
            // Priorities given before the file list was known: fit them to it (missing ones are normal).
            var fitted = new byte[metainfo.Files.Count];
            Array.Fill(fitted, (byte)FilePriority.Normal);
            Array.Copy(priorities, fitted, Math.Min(priorities.Length, fitted.Length));
            priorities = fitted;
        }
        TorrentRecord record = t.Record with { Metainfo = metainfo.ToBytes(), Name = metainfo.Name, FilePriorities = priorities };
        context.Store.Write(w => w.UpdateTorrent(record));
        t.Record = record;
        t.ViewDirty = true;
        // Priorities given with the magnet link reach the engine now that it knows the files.
        if (priorities is not null && t.Engine == EngineState.Running)
        {
            Picking.FilePriority[] levels = Shoal.Daemon.Engine.EngineBridge.Priorities(priorities, metainfo.Files.Count);
            engine.Drive(t, "applying file priorities to", h => h.SetFilePrioritiesAsync(levels));
        }
        context.Events.Publish(DaemonEventKind.MetadataReceived, t.Id, t.Record.InfoHash.ToHex(), metainfo.Name,
            message: $"{metainfo.Files.Count} files, {metainfo.TotalSize} bytes");
    }

    private async Task ApplyGoalAsync(ServiceTorrent t, string reason, SeedingGoalAction action)
    {
        context.Log.LogInformation("{Name}: seeding goal reached ({Reason}): {Action}", t.Record.Name, reason, action);
        if (action == SeedingGoalAction.Remove)
        {
            await removeForGoal(t, reason).ConfigureAwait(false);
            return;
        }
        TorrentRecord record = t.Record with { RunMode = RunMode.Paused };
        context.Store.Write(w => w.UpdateTorrent(record));
        t.Record = record;
        t.PauseReason = "seeding goal reached: " + reason;
        t.ViewDirty = true;
    }

    /// <summary>Decides which torrents run, starts and stops them, and sets the state of those that do not run. Loop only.</summary>
    public void PlanQueue()
    {
        DaemonSettings settings = context.Settings;
        _plannedWith = settings;
        context.PlanRequested = false;
        ServiceTorrent[] ordered = context.Torrents.InQueueOrder();
        var entries = new QueueEntry[ordered.Length];
        int downloads = 0, seeds = 0;
        for (int i = 0; i < ordered.Length; i++)
        {
            ServiceTorrent t = ordered[i];
            entries[i] = new QueueEntry(t.Record.RunMode, IsComplete(t), t.Error is not null);
        }
        bool[] run = QueuePlanner.Plan(entries, settings.QueueingEnabled, settings.MaxActiveDownloads, settings.MaxActiveSeeds);
        for (int i = 0; i < ordered.Length; i++)
        {
            if (!run[i] || ordered[i].Record.RunMode == RunMode.Forced) continue;
            if (entries[i].Complete) seeds++;
            else downloads++;
        }
        var reasons = new QueueReasons(
            $"queued: {downloads} of {settings.MaxActiveDownloads} download slots taken",
            $"queued: {seeds} of {settings.MaxActiveSeeds} seeding slots taken");
        for (int i = 0; i < ordered.Length; i++)
        {
            ServiceTorrent t = ordered[i];
            bool wanted = (run[i] || t.CheckOnly && t.Error is null) && !t.Relocating;
            if (wanted != t.Wanted)
            {
                t.Wanted = wanted;
                t.ViewDirty = true;
            }
            t.CheckWithoutPeers = wanted && !run[i];
            engine.Reconcile(t);
            if (t.Handle is null || t.EnginePaused && !CheckingInEngine(t)) SetActivity(t, IdleActivity(t, entries[i], reasons));
        }
    }

    /// <summary>
    /// Paused in the engine while the check it was started for (<see cref="ServiceTorrent.CheckOnly"/>: a verify, a new
    /// torrent's data) runs there: shown as checking, from the engine's status. A torrent the user pauses mid-check is
    /// shown paused at once, whatever the engine finishes meanwhile.
    /// </summary>
    private static bool CheckingInEngine(ServiceTorrent t) => t.CheckOnly && t.Status?.State == TorrentState.Checking;

    private static bool IsComplete(ServiceTorrent t) => t.Complete || t.Metainfo is not null && t.WantedSize == 0;

    /// <summary>The reasons of queued torrents, made once per pass and shared (no string per torrent per second).</summary>
    private sealed record QueueReasons(string Download, string Seed);

    private static (TorrentActivity, string) IdleActivity(ServiceTorrent t, QueueEntry entry, QueueReasons reasons)
    {
        if (t.Error is not null) return (TorrentActivity.Error, t.Error);
        // Paused while its start is under way: the start is undone when it ends, and the user sees the pause now.
        if (t.Record.RunMode == RunMode.Paused && !t.Relocating && !t.CheckOnly) return (TorrentActivity.Paused, t.PauseReason ?? "paused");
        if (t.Engine is EngineState.Starting && t.CheckWithoutPeers) return (TorrentActivity.Checking, "checking the data on disk");
        if (t.Engine is EngineState.Starting) return (t.Complete ? TorrentActivity.Seeding : TorrentActivity.Downloading, "starting");
        if (t.Relocating) return (t.Activity, "moving its data to another folder");
        if (t.Record.RunMode == RunMode.Paused) return (TorrentActivity.Paused, t.PauseReason ?? "paused");
        if (t.Engine is EngineState.Stopping) return (t.Activity, "stopping");
        if (t.Metainfo is not null && t.WantedSize == 0) return (TorrentActivity.Paused, "every file is skipped: nothing to download");
        return entry.Complete ? (TorrentActivity.QueuedSeed, reasons.Seed) : (TorrentActivity.QueuedDownload, reasons.Download);
    }

    private void SetActivity(ServiceTorrent t, (TorrentActivity Activity, string Reason) now)
    {
        if (t.Activity == now.Activity && t.Reason == now.Reason) return;
        bool stateChanged = t.Activity != now.Activity;
        t.Activity = now.Activity;
        t.Reason = now.Reason;
        t.ViewDirty = true;
        if (stateChanged)
        {
            context.Events.Publish(DaemonEventKind.StateChanged, t.Id, t.Record.InfoHash.ToHex(), t.Record.Name, now.Activity, now.Reason);
        }
    }

    /// <summary>Rebuilds the rows of torrents whose shown values changed and publishes them in one event. Loop only.</summary>
    public void PublishChanges(bool refreshTimes = false)
    {
        List<TorrentView>? changed = null;
        foreach (ServiceTorrent t in context.Torrents.All)
        {
            if (!t.ViewDirty && !(refreshTimes && t.Status is not null)) continue;
            TorrentView view = ViewFactory.Torrent(t);
            TorrentView old = t.View;
            t.ViewDirty = false;
            if (old is not null && !refreshTimes && SameExceptTimes(old, view)) continue;
            if (view.Equals(old)) continue;
            t.View = view;
            (changed ??= []).Add(view);
        }
        if (changed is not null) context.Events.Publish(DaemonEventKind.Updated, torrents: changed);
    }

    private static bool SameExceptTimes(TorrentView a, TorrentView b)
        => a == b with { SeedingSeconds = a.SeedingSeconds, ActiveSeconds = a.ActiveSeconds };

    /// <summary>
    /// Writes the resume data the engine saved since the last flush, every torrent's in one transaction (a removed
    /// torrent's is dropped: its row is gone). Loop only.
    /// </summary>
    public void FlushResume()
    {
        List<(Metainfo.InfoHash InfoHash, byte[]? Data)> pending = context.Engine.Resume.TakePending();
        if (pending.Count == 0) return;
        var rows = new List<(long Id, byte[]? Data)>(pending.Count);
        foreach ((Metainfo.InfoHash hash, byte[]? data) in pending)
        {
            if (context.Torrents.Find(hash) is { Removed: false } t) rows.Add((t.Id, data));
        }
        if (rows.Count == 0) return;
        DateTimeOffset now = context.Now;
        try
        {
            context.Store.Write(w =>
            {
                foreach ((long id, byte[]? data) in rows) w.PutResume(id, data, now);
            });
        }
        catch (StateStoreException ex)
        {
            // Nothing is lost that matters: the next start checks the pieces this data would have vouched for.
            context.Log.LogError("resume data not saved: {Error}", ex.Message);
        }
    }

    /// <summary>
    /// Writes every torrent's changed counters in one transaction, and every <see cref="TimeCounterInterval"/> those of
    /// the torrents whose time counters run. Loop only.
    /// </summary>
    public void WriteCounters()
    {
        FlushResume();
        long now = context.Time.GetTimestamp();
        _lastCounterWrite = now;
        bool times = context.Time.GetElapsedTime(_lastTimeWrite, now) >= TimeCounterInterval;
        if (times) _lastTimeWrite = now;
        List<(long Id, TorrentTotals Totals)>? dirty = null;
        foreach (ServiceTorrent t in context.Torrents.All)
        {
            if (!(t.TotalsDirty || times && t.TimesRunning) || t.Removed) continue;
            t.TotalsDirty = false;
            (dirty ??= []).Add((t.Id, t.Totals));
        }
        if (dirty is null) return;
        try
        {
            context.Store.Write(w =>
            {
                foreach ((long id, TorrentTotals totals) in dirty) w.PutTotals(id, totals);
            });
            CounterRowsWritten += dirty.Count;
        }
        catch (StateStoreException ex)
        {
            context.Log.LogError("counters not saved: {Error}", ex.Message);
            foreach ((long id, _) in dirty)
            {
                if (context.Torrents.Find(id) is { } t) t.TotalsDirty = true;
            }
        }
    }
}
