using Microsoft.Extensions.Logging;
using Shoal.Daemon.Engine;
using Shoal.Swarm;

namespace Shoal.Daemon.Service;

/// <summary>
/// Brings each torrent's place in the engine in line with what the service wants (<see cref="ServiceTorrent.Wanted"/>).
/// Starts and stops run off the loop, one at a time per torrent (a start begins only once the previous stop has
/// ended, so the engine never sees the same torrent twice), and report back to the loop when they end, which looks
/// again. The loop itself never waits for the engine.
/// </summary>
internal sealed class EngineReconciler(ServiceContext context)
{
    /// <summary>
    /// Starts, pauses, resumes or stops <paramref name="t"/> when its wish and its place in the engine differ. A torrent
    /// that stops being wanted while it runs (paused, queued, a seeding goal) is paused in the engine, not removed: it
    /// keeps its state and resumes without a check. A torrent wanted only for a data check
    /// (<see cref="ServiceTorrent.CheckWithoutPeers"/>) runs there paused: checked, with no peer and no download. Loop only.
    /// </summary>
    public void Reconcile(ServiceTorrent t)
    {
        // A torrent whose data moves leaves the engine (its files closed), as a removed one does.
        bool leave = t.Removed || context.Stopping || t.Relocating;
        bool want = t.Wanted && !leave;
        bool withPeers = want && !t.CheckWithoutPeers;
        switch (t.Engine)
        {
            case EngineState.Stopped when want:
                if (withPeers && HoldIfDataMissing(t)) break;
                Start(t, checkWithoutPeers: !withPeers);
                break;
            case EngineState.Running when leave || t.RestartPending:
                Stop(t);
                break;
            case EngineState.Running when !withPeers && !t.EnginePaused:
                // A check under way goes on in the paused engine torrent, without peers.
                t.EnginePaused = true;
                t.ViewDirty = true;
                Drive(t, "pausing", h => h.PauseAsync());
                break;
            case EngineState.Running when withPeers && t.EnginePaused:
                if (HoldIfDataMissing(t)) break;
                t.EnginePaused = false;
                t.ViewDirty = true;
                Drive(t, "resuming", h => h.ResumeAsync());
                break;
        }
    }

    /// <summary>
    /// Holds a torrent about to run with peers whose data is gone (<see cref="MissingData"/>) in error, shown as
    /// missing files; true when it did. Only called at that moment, so a file system is looked at once per start.
    /// </summary>
    private bool HoldIfDataMissing(ServiceTorrent t)
    {
        if (MissingData.Find(t) is not { } why) return false;
        t.MissingFiles = true;
        t.Error = why;
        t.Wanted = false;
        t.ViewDirty = true;
        context.PlanRequested = true;
        context.Log.LogWarning("{Name} is held: {Error}", t.Record.Name, why);
        context.Events.Publish(DaemonEventKind.Error, t.Id, t.Record.InfoHash.ToHex(), t.Record.Name, TorrentActivity.Error, why);
        return true;
    }

    /// <summary>
    /// Runs a call on a running torrent's handle off the loop, after the torrent's previous engine work (so calls reach
    /// the engine in the order they were made); a failure is logged: the torrent's next status shows what it is.
    /// </summary>
    public void Drive(ServiceTorrent t, string what, Func<TorrentHandle, Task> call)
    {
        if (t.Handle is not { } handle) return;
        Task previous = t.EngineWork;
        t.EngineWork = Task.Run(async () =>
        {
            await previous.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            try
            {
                await call(handle).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or IOException or UnauthorizedAccessException)
            {
                context.Log.LogWarning("{What} {Name} failed: {Error}", what, t.Record.Name, ex.Message);
            }
        });
    }

    /// <summary>Starts the torrent in the engine; with <paramref name="checkWithoutPeers"/> paused there, its data checked all the same.</summary>
    private void Start(ServiceTorrent t, bool checkWithoutPeers)
    {
        t.Engine = EngineState.Starting;
        t.RestartPending = false;
        State.TorrentRecord record = t.Record;
        Metainfo.Torrent? metainfo = t.Metainfo;
        IReadOnlyDictionary<int, string>? renamed = t.RenamedFiles;
        t.EngineWork = Task.Run(async () =>
        {
            TorrentHandle? handle = null;
            string? error = null;
            try
            {
                handle = await context.Engine.StartAsync(record, metainfo, renamed, checkWithoutPeers).ConfigureAwait(false);
            }
            catch (ServiceException ex)
            {
                error = ex.Message;
            }
            await ReportAsync(() => OnStarted(t, handle, error, checkWithoutPeers), handle).ConfigureAwait(false);
        });
    }

    private void OnStarted(ServiceTorrent t, TorrentHandle? handle, string? error, bool paused)
    {
        if (handle is null)
        {
            t.Engine = EngineState.Stopped;
            t.Error = error ?? "the engine refused the torrent";
            t.Activity = TorrentActivity.Error;
            t.Reason = t.Error;
            t.ViewDirty = true;
            context.Log.LogWarning("torrent {Name} did not start: {Error}", t.Record.Name, t.Error);
            context.Events.Publish(DaemonEventKind.Error, t.Id, t.Record.InfoHash.ToHex(), t.Record.Name, TorrentActivity.Error, t.Error);
            context.PlanRequested = true;
            return;
        }
        t.Engine = EngineState.Running;
        t.EnginePaused = paused;
        t.Handle = handle;
        t.Status = handle.GetStatus();
        t.Folded = null;
        t.ViewDirty = true;
        context.PlanRequested = true;
        Reconcile(t);
    }

    private void Stop(ServiceTorrent t)
    {
        TorrentHandle handle = t.Handle!;
        // The counters of this run join the totals now; what moves between this status and the engine's last
        // one is added when the stop has ended.
        TorrentStatus? folded = t.Status;
        t.TrackTime(null);
        t.Base = t.Totals;
        t.Folded = folded;
        t.Status = null;
        t.Handle = null;
        t.Engine = EngineState.Stopping;
        t.EnginePaused = false;
        t.TotalsDirty = true;
        t.ViewDirty = true;
        Task previous = t.EngineWork;
        t.EngineWork = Task.Run(async () =>
        {
            await previous.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            TorrentStatus? final = null;
            try
            {
                await EngineBridge.StopAsync(handle).ConfigureAwait(false);
                final = handle.GetStatus();
            }
            catch (Exception ex) when (ex is InvalidOperationException or ObjectDisposedException or IOException)
            {
                context.Log.LogWarning("stopping {Name} failed: {Error}", t.Record.Name, ex.Message);
            }
            await ReportAsync(() => OnStopped(t, folded, final), null).ConfigureAwait(false);
        });
    }

    private void OnStopped(ServiceTorrent t, TorrentStatus? folded, TorrentStatus? final)
    {
        if (final is not null)
        {
            long down = final.Downloaded - (folded?.Downloaded ?? 0);
            long up = final.Uploaded - (folded?.Uploaded ?? 0);
            if (down > 0 || up > 0)
            {
                t.Base = t.Base with { Downloaded = t.Base.Downloaded + Math.Max(0, down), Uploaded = t.Base.Uploaded + Math.Max(0, up) };
                t.TotalsDirty = true;
            }
            if (final.VerifiedBytes > 0) t.DoneBytes = final.VerifiedBytes;
        }
        t.Engine = EngineState.Stopped;
        t.Folded = null;
        if (t.RecheckPending && !t.Removed)
        {
            t.RecheckPending = false;
            try
            {
                context.Engine.ForgetResume(t.Record.InfoHash);
            }
            catch (ServiceException ex)
            {
                context.Log.LogWarning("{Error}", ex.Message);
            }
        }
        t.ViewDirty = true;
        context.PlanRequested = true;
        Reconcile(t);
    }

    /// <summary>
    /// Hands an engine result back to the loop. When the loop has already closed (the daemon is stopping), a handle
    /// that just started is stopped here so nothing keeps running.
    /// </summary>
    private async Task ReportAsync(Action onLoop, TorrentHandle? started)
    {
        try
        {
            await context.Loop.RunAsync(() => { onLoop(); return Task.CompletedTask; }).ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
            if (started is not null) await EngineBridge.StopAsync(started).ConfigureAwait(false);
        }
    }
}
