namespace Shoal.Swarm;

/// <summary>
/// One torrent's seeding time and time since its last upload, as the session's goal pass sees them (once a second):
/// only time spent seeding counts, and the idle time starts again at every upload and whenever seeding starts.
/// Kept on the torrent's session entry, so it survives restarts under the same handle. Touched by the goal pass only.
/// </summary>
internal sealed class SeedingClock
{
    private bool _seeding;
    private long _lastPass;
    private long _lastUploaded;
    private long _idleSince;
    private long _seedingTicks;

    /// <summary>Time spent seeding so far (in <see cref="TimeProvider"/> timestamp units, see <see cref="SeedingTime"/>).</summary>
    public TimeSpan SeedingTime(TimeProvider time) => TimeSpan.FromSeconds((double)Volatile.Read(ref _seedingTicks) / time.TimestampFrequency);

    /// <summary>Time since the last upload while seeding; zero when not seeding.</summary>
    public TimeSpan IdleTime(TimeProvider time, long now) => _seeding ? time.GetElapsedTime(_idleSince, now) : TimeSpan.Zero;

    /// <summary>Takes the torrent's snapshot at <paramref name="now"/>; true while it seeds.</summary>
    public bool Observe(TorrentStatus status, long now)
    {
        bool seeding = status.State == TorrentState.Seeding;
        if (seeding && _seeding) Volatile.Write(ref _seedingTicks, _seedingTicks + Math.Max(0, now - _lastPass));
        if (seeding && (!_seeding || status.Uploaded != _lastUploaded)) _idleSince = now;
        _seeding = seeding;
        _lastUploaded = status.Uploaded;
        _lastPass = now;
        return seeding;
    }
}
