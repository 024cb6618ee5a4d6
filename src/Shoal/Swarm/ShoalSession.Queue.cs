namespace Shoal.Swarm;

// The session's queue: at most MaxActiveDownloads torrents download (check, fetch metadata) and MaxActiveSeeds seed at
// once, in queue order; the others are paused in their actors and shown as Queued. The plan runs again whenever
// something can change it (a torrent added, removed, paused, resumed, moved, finished; the limits changed), one plan
// at a time.
public sealed partial class ShoalSession
{
    private readonly SemaphoreSlim _queueGate = new(1, 1);
    private long _lastQueueOrder;
    private int _maxActiveDownloads = -1;
    private int _maxActiveSeeds = -1;
    private int _replanRequested;
    private int _queuedCount;

    /// <summary>Torrents allowed to download at once (negative: no limit).</summary>
    public int MaxActiveDownloads => Volatile.Read(ref _maxActiveDownloads);

    /// <summary>Torrents allowed to seed at once (negative: no limit).</summary>
    public int MaxActiveSeeds => Volatile.Read(ref _maxActiveSeeds);

    private bool QueueUnlimited => MaxActiveDownloads < 0 && MaxActiveSeeds < 0;

    /// <summary>Changes the queue's limits (negative: no limit) and starts or queues torrents to fit them.</summary>
    public Task SetQueueLimitsAsync(int maxActiveDownloads, int maxActiveSeeds)
    {
        Volatile.Write(ref _maxActiveDownloads, maxActiveDownloads);
        Volatile.Write(ref _maxActiveSeeds, maxActiveSeeds);
        return ReplanAsync();
    }

    internal long QueueOrderOf(SessionTorrent entry) => entry.QueueOrder;

    /// <summary>Moves a torrent to <paramref name="position"/> (0 is the front) of the queue, then plans again.</summary>
    internal async Task SetQueuePositionAsync(SessionTorrent entry, int position)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(position);
        await _queueGate.WaitAsync().ConfigureAwait(false);
        try
        {
            List<SessionTorrent> order = [.. _torrents.Values.Where(e => e != entry).OrderBy(e => e.QueueOrder)];
            order.Insert(Math.Min(position, order.Count), entry);
            // Renumber: positions are few and moves are rare (a user's click), so simple beats clever here.
            for (int i = 0; i < order.Count; i++) order[i].QueueOrder = i + 1;
            Interlocked.Exchange(ref _lastQueueOrder, order.Count);
        }
        finally
        {
            _queueGate.Release();
        }
        await ReplanAsync().ConfigureAwait(false);
    }

    /// <summary>The position of <paramref name="entry"/> in the queue (0 is the front).</summary>
    internal int QueuePositionOf(SessionTorrent entry) => _torrents.Values.Count(e => e.QueueOrder < entry.QueueOrder);

    /// <summary>Asks for a plan from a thread that must not wait (a torrent's state changed): one runs soon, once.</summary>
    private void RequestReplan()
    {
        // Without limits and with nothing queued there is nothing to plan: a state change costs nothing (no scan of
        // thousands of torrents at every start-up transition).
        if (QueueUnlimited && Volatile.Read(ref _queuedCount) == 0) return;
        if (Interlocked.Exchange(ref _replanRequested, 1) == 1) return;
        _ = Task.Run(async () =>
        {
            Volatile.Write(ref _replanRequested, 0);
            try { await ReplanAsync().ConfigureAwait(false); }
            catch (Exception ex) when (ex is ObjectDisposedException or InvalidOperationException) { }
        });
    }

    /// <summary>Marks <paramref name="entry"/> queued by the plan or not, keeping the count. Under the entry's gate.</summary>
    private void SetQueued(SessionTorrent entry, bool queued)
    {
        if (entry.Queued == queued) return;
        entry.Queued = queued;
        Interlocked.Add(ref _queuedCount, queued ? 1 : -1);
    }

    /// <summary>Starts the torrents the queue lets run and queues the others, in queue order.</summary>
    private async Task ReplanAsync()
    {
        if (Volatile.Read(ref _disposed) != 0 || QueueUnlimited && Volatile.Read(ref _queuedCount) == 0) return;
        await _queueGate.WaitAsync().ConfigureAwait(false);
        try
        {
            int downloads = 0, seeds = 0;
            int maxDownloads = MaxActiveDownloads, maxSeeds = MaxActiveSeeds;
            foreach (SessionTorrent entry in _torrents.Values.OrderBy(e => e.QueueOrder).ToArray())
            {
                if (entry.Removed || entry.UserPaused || entry.ForceStarted) continue;
                TorrentStatus status = entry.Actor.Status;
                if (status.State is TorrentState.Error or TorrentState.Stopped) continue;
                bool complete = entry.Actor.Torrent is not null && status.TotalSize > 0 && status.VerifiedBytes >= status.TotalSize;
                bool run = complete ? maxSeeds < 0 || seeds < maxSeeds : maxDownloads < 0 || downloads < maxDownloads;
                if (run)
                {
                    if (complete) seeds++;
                    else downloads++;
                }
                await entry.Gate.WaitAsync().ConfigureAwait(false);
                try
                {
                    if (entry.Removed || entry.UserPaused || entry.ForceStarted) continue;
                    if (run) await ResumeActorAsync(entry).ConfigureAwait(false);
                    else if (!entry.ActorPaused || entry.Actor.Status.State != TorrentState.Queued) await PauseActorAsync(entry, TorrentState.Queued).ConfigureAwait(false);
                }
                catch (InvalidOperationException)
                {
                    // The torrent stopped meanwhile: the next plan skips it.
                }
                finally
                {
                    entry.Gate.Release();
                }
            }
        }
        finally
        {
            _queueGate.Release();
        }
    }
}
