using Shoal.Daemon.Service;

namespace Shoal.Daemon.Transmission;

/// <summary>
/// What Transmission calls "recently active": the torrents whose shown values changed in the last
/// <see cref="Window"/>, and the ids of those removed in it. Fed by the daemon's event stream (added, updated,
/// state changes, removals) on a reader of its own; bounded by the number of torrents plus the removals of one window.
/// </summary>
internal sealed class RecentActivity : IAsyncDisposable
{
    /// <summary>How long a change counts as recent (Transmission's 60 seconds).</summary>
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(60);

    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly Dictionary<long, long> _changed = [];
    private readonly Dictionary<long, long> _removed = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _reader;
    private long _everythingSince = long.MinValue;

    public RecentActivity(EventHub events, TimeProvider time)
    {
        _time = time;
        _reader = ReadAsync(events, _stop.Token);
    }

    /// <summary>Files added since the daemon started (for session-stats).</summary>
    public int Added { get; private set; }

    /// <summary>Ids of torrents that changed within the window; <paramref name="all"/> when events were lost in it.</summary>
    public IReadOnlySet<long> ChangedIds(out bool all)
    {
        long now = _time.GetTimestamp();
        lock (_gate)
        {
            Prune(now);
            all = _everythingSince != long.MinValue && _time.GetElapsedTime(_everythingSince, now) < Window;
            return new HashSet<long>(_changed.Keys);
        }
    }

    /// <summary>Ids of torrents removed within the window.</summary>
    public IReadOnlyList<long> RemovedIds()
    {
        long now = _time.GetTimestamp();
        lock (_gate)
        {
            Prune(now);
            return [.. _removed.Keys.Order()];
        }
    }

    private async Task ReadAsync(EventHub events, CancellationToken stop)
    {
        try
        {
            await foreach (DaemonEvent e in events.ReadAsync(cancellationToken: stop).ConfigureAwait(false))
            {
                long now = _time.GetTimestamp();
                lock (_gate)
                {
                    switch (e.Kind)
                    {
                        case DaemonEventKind.Removed when e.TorrentId is { } id:
                            _changed.Remove(id);
                            _removed[id] = now;
                            break;
                        case DaemonEventKind.Resync:
                            // Events were lost: everything counts as changed for a window.
                            _everythingSince = now;
                            break;
                        default:
                            if (e.Kind == DaemonEventKind.Added) Added++;
                            if (e.TorrentId is { } one) _changed[one] = now;
                            if (e.Torrents is { } rows) foreach (TorrentView row in rows) _changed[row.Id] = now;
                            break;
                    }
                    if (_changed.Count + _removed.Count > 4096) Prune(now);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (ServiceException)
        {
            // Too many event readers: recently-active then reports every torrent (see ChangedIds' all).
            lock (_gate) _everythingSince = long.MaxValue;
        }
    }

    private void Prune(long now)
    {
        foreach (long id in _changed.Where(p => _time.GetElapsedTime(p.Value, now) >= Window).Select(p => p.Key).ToList()) _changed.Remove(id);
        foreach (long id in _removed.Where(p => _time.GetElapsedTime(p.Value, now) >= Window).Select(p => p.Key).ToList()) _removed.Remove(id);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _reader.ConfigureAwait(false);
        _stop.Dispose();
    }
}
