namespace Shoal.Swarm;

/// <summary>
/// The session's one clock for periodic torrent work: every <see cref="TickInterval"/> it posts a Tick to each torrent
/// that has something periodic to do (peers to keep alive, choke and measure; a paused download to retry), and at the
/// time a waiting torrent asked for (a peer's dial back-off, a resume save) it posts one Tick to that torrent. A
/// torrent with nothing to do is on neither list and costs nothing; with no torrent active the timer is stopped.
/// Thread-safe; the order torrents are ticked in is the order they were activated (a simulation replays it).
/// </summary>
internal sealed class SessionScheduler : IAsyncDisposable
{
    /// <summary>How often an active torrent is ticked.</summary>
    public static readonly TimeSpan TickInterval = TimeSpan.FromMilliseconds(500);

    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly List<TorrentActor> _active = [];
    private readonly Dictionary<TorrentActor, long> _wakeAt = [];
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
            if (!_active.Contains(torrent)) _active.Add(torrent);
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
            _active.Remove(torrent);
            if (wakeAt is long due && !_disposed)
            {
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
            if (_wakeAt.Count > 0)
            {
                foreach ((TorrentActor torrent, long due) in _wakeAt)
                    if (due <= now) _batch.Add(torrent);
                for (int i = _active.Count; i < _batch.Count; i++) _wakeAt.Remove(_batch[i]);
            }
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
            _wakeAt.Clear();
            StopTimerLocked();
        }
        return ValueTask.CompletedTask;
    }
}
