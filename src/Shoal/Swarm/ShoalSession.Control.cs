using Shoal.Metainfo;
using Shoal.Picking;

namespace Shoal.Swarm;

// What a caller changes on a running session: pausing and resuming torrents, changes that restart a torrent under
// its handle, removal, the session's rate caps, and the event stream.
public sealed partial class ShoalSession
{
    /// <summary>
    /// The session's events (added, metadata received, state changed, finished, error, removed, tracker error, file
    /// completed), oldest first, until the session is disposed or <paramref name="cancellationToken"/> fires. Bounded:
    /// a reader that falls more than <see cref="SessionEvents.Capacity"/> events behind loses the oldest ones
    /// (<see cref="DroppedEvents"/> counts them). Meant for one reader; several readers share the events between them.
    /// </summary>
    public IAsyncEnumerable<SessionEvent> ReadEventsAsync(CancellationToken cancellationToken = default) => _context.Events.ReadAllAsync(cancellationToken);

    /// <summary>Events dropped because the reader of <see cref="ReadEventsAsync"/> fell behind.</summary>
    public long DroppedEvents => _context.Events.Dropped;

    /// <summary>The session-wide download cap in bytes per second (0 unlimited).</summary>
    public long MaxDownloadRate => _context.DownloadLimit.BytesPerSecond;

    /// <summary>The session-wide upload cap in bytes per second (0 unlimited).</summary>
    public long MaxUploadRate => _context.UploadLimit.BytesPerSecond;

    /// <summary>Changes the session-wide caps (bytes per second, 0 unlimited); every torrent's next block obeys them.</summary>
    public void SetRateLimits(long maxDownloadRate, long maxUploadRate)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxDownloadRate);
        ArgumentOutOfRangeException.ThrowIfNegative(maxUploadRate);
        _context.DownloadLimit.BytesPerSecond = maxDownloadRate;
        _context.UploadLimit.BytesPerSecond = maxUploadRate;
    }

    internal async Task<bool> PauseAsync(SessionTorrent entry)
    {
        bool paused;
        await entry.Gate.WaitAsync().ConfigureAwait(false);
        try
        {
            ThrowIfRemoved(entry);
            if (entry.UserPaused) return false;
            entry.UserPaused = true;
            entry.ForceStarted = false;
            await PauseActorAsync(entry, TorrentState.Suspended).ConfigureAwait(false);
            paused = true;
        }
        finally
        {
            entry.Gate.Release();
        }
        await ReplanAsync().ConfigureAwait(false); // a slot may have freed
        return paused;
    }

    internal async Task<bool> ResumeAsync(SessionTorrent entry, bool force = false)
    {
        await entry.Gate.WaitAsync().ConfigureAwait(false);
        try
        {
            ThrowIfRemoved(entry);
            if (!entry.UserPaused && entry.ForceStarted == force) return false;
            entry.UserPaused = false;
            entry.ForceStarted = force;
            // Without a queue limit (or forced) it runs now; otherwise the plan below decides.
            if (force || QueueUnlimited) await ResumeActorAsync(entry).ConfigureAwait(false);
        }
        finally
        {
            entry.Gate.Release();
        }
        await ReplanAsync().ConfigureAwait(false);
        return true;
    }

    /// <summary>Pauses the entry's actor (showing <paramref name="shownAs"/>) and stops announcing it. Under the entry's gate.</summary>
    private async Task PauseActorAsync(SessionTorrent entry, TorrentState shownAs)
    {
        TorrentActor actor = entry.Actor;
        await actor.InvokeAsync(() => actor.Pause(shownAs)).ConfigureAwait(false);
        SetQueued(entry, shownAs == TorrentState.Queued);
        if (entry.ActorPaused) return;
        entry.ActorPaused = true;
        await StopAnnouncingAsync(entry).ConfigureAwait(false);
    }

    /// <summary>Resumes the entry's actor and announces it again. Under the entry's gate.</summary>
    private async Task ResumeActorAsync(SessionTorrent entry)
    {
        if (!entry.ActorPaused) return;
        TorrentActor actor = entry.Actor;
        await actor.InvokeAsync(actor.Resume).ConfigureAwait(false);
        entry.ActorPaused = false;
        SetQueued(entry, false);
        StartAnnouncing(entry);
    }

    internal async Task SetFilePrioritiesAsync(SessionTorrent entry, FilePriority[] priorities)
    {
        TorrentActor actor = entry.Actor;
        if (await actor.InvokeAsync(() => actor.SetFilePriorities(priorities)).ConfigureAwait(false)) return;
        // A file the storage was opened without is wanted now: the torrent restarts with the new priorities.
        await RestartAsync(entry, forgetResume: false).ConfigureAwait(false);
    }

    /// <summary>
    /// Stops the torrent's actor (its resume data is saved on the way out) and starts a new one from its current options
    /// under the same handle, carrying its counters; with <paramref name="forgetResume"/> the resume data is deleted
    /// first, so every piece is checked again; with <paramref name="checkWhilePaused"/> a paused torrent is checked now
    /// and stays paused (<see cref="TorrentOptions.CheckWhilePaused"/>). A magnet link without metadata has nothing to restart.
    /// </summary>
    internal async Task RestartAsync(SessionTorrent entry, bool forgetResume, bool checkWhilePaused = false)
    {
        await entry.Gate.WaitAsync().ConfigureAwait(false);
        try
        {
            ThrowIfRemoved(entry);
            TorrentActor old = entry.Actor;
            if (old.Torrent is not { } torrent) return;
            TorrentOptions options = await old.InvokeAsync(() => old.CurrentOptions).ConfigureAwait(false);
            if (checkWhilePaused && options.StartPaused) options = options with { CheckWhilePaused = true };
            await StopAnnouncingAsync(entry).ConfigureAwait(false);
            await old.StopAsync().ConfigureAwait(false);
            if (forgetResume) old.ForgetResume();
            ReplaceActor(entry, old, torrent, options);
        }
        finally
        {
            entry.Gate.Release();
        }
    }

    /// <summary>
    /// Starts a new actor for the entry's torrent from <paramref name="options"/> in place of <paramref name="old"/>
    /// (stopped), carrying its counters; paused (as queued when the queue holds it) if the options say so. Under the
    /// entry's gate. When the torrent cannot run with these options it leaves the session and the error is thrown.
    /// </summary>
    private void ReplaceActor(SessionTorrent entry, TorrentActor old, Torrent torrent, TorrentOptions options)
    {
        TorrentActor actor;
        try
        {
            actor = new TorrentActor(_context, torrent.InfoHash, torrent.Name, torrent, OpenStorage(torrent, options), options, t => OpenStorage(t, options));
        }
        catch
        {
            // The torrent cannot run with these options (its files cannot live there any more): it leaves the session.
            entry.Removed = true;
            _torrents.TryRemove(new KeyValuePair<InfoHash, SessionTorrent>(torrent.InfoHash, entry));
            foreach (InfoHash hash in old.InfoHashes) _context.Encryption.Torrents.Remove(hash);
            foreach (InfoHash other in old.InfoHashes.Skip(1)) _alternateHashes.TryRemove(new KeyValuePair<InfoHash, SessionTorrent>(other, entry));
            _context.Events.Publish(new SessionEvent(SessionEventKind.Removed, torrent.InfoHash, torrent.Name, TorrentState.Stopped));
            throw;
        }
        actor.CarryCounters(old.Counters);
        if (options.StartPaused && entry.Queued) actor.PauseBeforeStart(TorrentState.Queued);
        entry.Actor = actor;
        entry.ActorPaused = options.StartPaused;
        actor.Start();
        if (!options.StartPaused) StartAnnouncing(entry);
    }

    internal async Task RemoveAsync(SessionTorrent entry)
    {
        await entry.Gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (entry.Removed) return;
            entry.Removed = true;
            SetQueued(entry, false);
            TorrentActor actor = entry.Actor;
            foreach (InfoHash hash in actor.InfoHashes) _context.Encryption.Torrents.Remove(hash);
            await StopTorrentAsync(entry).ConfigureAwait(false);
            foreach (InfoHash other in actor.InfoHashes.Skip(1)) _alternateHashes.TryRemove(new KeyValuePair<InfoHash, SessionTorrent>(other, entry));
            _torrents.TryRemove(new KeyValuePair<InfoHash, SessionTorrent>(actor.InfoHash, entry));
            _context.Events.Publish(new SessionEvent(SessionEventKind.Removed, actor.InfoHash, actor.Name, TorrentState.Stopped));
        }
        finally
        {
            entry.Gate.Release();
        }
        RequestReplan();
    }

    private static void ThrowIfRemoved(SessionTorrent entry)
    {
        if (entry.Removed) throw new InvalidOperationException($"torrent {entry.Actor.InfoHash} is no longer in the session");
    }
}
