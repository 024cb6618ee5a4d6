namespace Shoal.Swarm;

/// <summary>
/// The session's one clock for periodic torrent work: every <see cref="TickInterval"/> it posts a Tick to each torrent
/// that has something periodic to do (peers to keep alive, choke and measure; a paused download to retry), and at the
/// time a waiting torrent asked for (a peer's dial back-off, a resume save) it posts one Tick to that torrent. A
/// torrent with nothing to do is on neither list and costs nothing; with no torrent active the timer is stopped.
/// Thread-safe; the order torrents are ticked in is the order they were activated (a simulation replays it).
/// Activating, deactivating and waking are O(1) or O(log n), so a session of 10,000 torrents starting at once does
/// not pay for the length of the list with each one.
/// </summary>
internal sealed class SessionScheduler : IAsyncDisposable
{
    /// <summary>How often an active torrent is ticked.</summary>
    public static readonly TimeSpan TickInterval = TimeSpan.FromMilliseconds(500);

    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly LinkedList<TorrentActor> _active = new(); // in the order of activation
    private readonly Dictionary<TorrentActor, LinkedListNode<TorrentActor>> _activeNodes = [];
    private readonly Dictionary<TorrentActor, long> _wakeAt = []; // the one wake-up each waiting torrent asked for
    private readonly PriorityQueue<TorrentActor, long> _wakeOrder = new(); // may hold stale entries: _wakeAt decides
    private readonly List<TorrentActor> _batch = [];
    private ITimer? _timer;
    private bool _disposed;
    private long _ticksPosted;

    public SessionScheduler(TimeProvider time) => _time = time;

    /// <summary>Ticks posted to torrents so far (for tests and diagnostics).</summary>
    public long TicksPosted => Interlocked.Read(ref _ticksPosted);

    /// <summary>Torrents ticked every interval now.</summary>
    public int ActiveCount
    {
        get { lock (_gate) return _active.Count; }
    }

    /// <summary>Ticks <paramref name="torrent"/> every interval from now on (no effect when it already is).</summary>
    public void Activate(TorrentActor torrent)
    {
        lock (_gate)
        {
            if (_disposed) return;
            _wakeAt.Remove(torrent);
            if (!_activeNodes.ContainsKey(torrent)) _activeNodes.Add(torrent, _active.AddLast(torrent));
            StartTimerLocked();
        }
    }

    /// <summary>
    /// Stops ticking <paramref name="torrent"/>; when <paramref name="wakeAt"/> (a <see cref="TimeProvider"/> timestamp)
    /// is given, it gets one Tick once that time has come.
    /// </summary>
    public void Deactivate(TorrentActor torrent, long? wakeAt = null)
    {
        lock (_gate)
        {
            if (_activeNodes.Remove(torrent, out LinkedListNode<TorrentActor>? node)) _active.Remove(node);
            if (wakeAt is long due && !_disposed)
            {
                if (!_wakeAt.TryGetValue(torrent, out long known) || known != due) _wakeOrder.Enqueue(torrent, due);
                _wakeAt[torrent] = due;
                StartTimerLocked();
            }
            else
            {
                _wakeAt.Remove(torrent);
            }
            if (_active.Count == 0 && _wakeAt.Count == 0) StopTimerLocked();
        }
    }

    /// <summary>Forgets <paramref name="torrent"/> (it stopped).</summary>
    public void Remove(TorrentActor torrent) => Deactivate(torrent);

    private void OnTimer()
    {
        long now = _time.GetTimestamp();
        lock (_gate)
        {
            _batch.Clear();
            _batch.AddRange(_active);
            while (_wakeOrder.TryPeek(out TorrentActor? torrent, out long due) && due <= now)
            {
                _wakeOrder.Dequeue();
                // A stale entry: the torrent was activated, removed, or asked for another time since.
                if (!_wakeAt.TryGetValue(torrent, out long wanted) || wanted != due) continue;
                _wakeAt.Remove(torrent);
                _batch.Add(torrent);
            }
            if (_wakeAt.Count == 0) _wakeOrder.Clear();
            if (_active.Count == 0 && _wakeAt.Count == 0) StopTimerLocked();
            // Posting while holding the gate keeps the order; a post never blocks (TryPost), and a torrent's own
            // calls back into the scheduler happen on its loop, later.
            foreach (TorrentActor torrent in _batch)
            {
                torrent.TryPost(new TorrentEvent { Kind = TorrentEventKind.Tick });
                _ticksPosted++;
            }
        }
    }

    private void StartTimerLocked() =>
        _timer ??= _time.CreateTimer(static state => ((SessionScheduler)state!).OnTimer(), this, TickInterval, TickInterval);

    private void StopTimerLocked()
    {
        _timer?.Dispose();
        _timer = null;
    }

    public ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            _disposed = true;
            _active.Clear();
            _activeNodes.Clear();
            _wakeAt.Clear();
            _wakeOrder.Clear();
            StopTimerLocked();
        }
        return ValueTask.CompletedTask;
    }
}
