namespace Shoal.Swarm;

/// <summary>
/// One torrent's seeding time and time since its last upload, for the seeding goals: only time spent seeding counts,
/// and the idle time starts again at every upload and whenever seeding starts. Both are kept as timestamps (when the
/// current stretch of seeding began, when the last upload was seen), so nothing needs counting while nothing changes:
/// the session's pass shows the clock a torrent's status when it changed (<see cref="StatusChanges"/>), not every
/// second. Kept on the torrent's session entry, so it survives restarts under the same handle. Observed by the pass
/// only; read from any thread.
/// </summary>
internal sealed class SeedingClock
{
    private readonly Lock _gate = new();
    private bool _seeding;
    private long _seedingSince;
    private long _seededBefore;
    private long _lastUploaded;
    private long _idleSince;

    /// <summary>Time spent seeding so far, up to <paramref name="time"/>'s now.</summary>
    public TimeSpan SeedingTime(TimeProvider time) => SeedingTime(time, time.GetTimestamp());

    /// <summary>Time spent seeding up to <paramref name="now"/>.</summary>
    public TimeSpan SeedingTime(TimeProvider time, long now)
    {
        long ticks;
        lock (_gate) ticks = _seededBefore + (_seeding ? Math.Max(0, now - _seedingSince) : 0);
        return TimeSpan.FromSeconds((double)ticks / time.TimestampFrequency);
    }

    /// <summary>Time since the last upload while seeding; zero when not seeding.</summary>
    public TimeSpan IdleTime(TimeProvider time, long now)
    {
        lock (_gate) return _seeding ? time.GetElapsedTime(_idleSince, now) : TimeSpan.Zero;
    }

    /// <summary>Takes the torrent's snapshot at <paramref name="now"/> (the same one again changes nothing); true while it seeds.</summary>
    public bool Observe(TorrentStatus status, long now)
    {
        bool seeding = status.State == TorrentState.Seeding;
        lock (_gate)
        {
            if (seeding && !_seeding)
            {
                _seedingSince = now;
                _idleSince = now;
            }
            else if (!seeding && _seeding)
            {
                _seededBefore += Math.Max(0, now - _seedingSince);
            }
            else if (seeding && status.Uploaded != _lastUploaded)
            {
                _idleSince = now;
            }
            _seeding = seeding;
            _lastUploaded = status.Uploaded;
        }
        return seeding;
    }
}
