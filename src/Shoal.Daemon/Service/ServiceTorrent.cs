using Shoal.Daemon.State;
using Shoal.Metainfo;
using Shoal.Swarm;

namespace Shoal.Daemon.Service;

/// <summary>
/// One torrent of the daemon as the service keeps it. Every field is written only on the service's loop; other
/// threads read <see cref="View"/>, an immutable row replaced when something shown changed.
/// </summary>
internal sealed class ServiceTorrent
{
    private TorrentView? _view;
    private (byte[]? Priorities, Torrent? Metainfo, long Size) _wanted = (null, null, -1);

    private readonly TimeProvider _time;
    private TimeSpan _seededBefore;
    private TimeSpan _activeBefore;
    private long? _seedingSince;
    private long? _activeSince;

    public ServiceTorrent(TorrentRecord record, TorrentTotals totals, Torrent? metainfo, TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        Record = record;
        Metainfo = metainfo;
        Base = totals;
        _seededBefore = TimeSpan.FromSeconds(totals.SeedingSeconds);
        _activeBefore = TimeSpan.FromSeconds(totals.ActiveSeconds);
        DoneBytes = totals.DoneBytes;
        CompletedAt = totals.CompletedAt;
        LastActivity = totals.LastActivity;
        Complete = totals.CompletedAt is not null;
    }

    /// <summary>What is persisted of it (replaced, never mutated).</summary>
    public TorrentRecord Record { get; set; }

    /// <summary>Its parsed metainfo; null while a magnet's metadata is unknown.</summary>
    public Torrent? Metainfo { get; set; }

    /// <summary>Counters up to the start of the current engine run.</summary>
    public TorrentTotals Base { get; set; }

    /// <summary>The engine's handle while it runs there; null when paused, queued or errored.</summary>
    public TorrentHandle? Handle { get; set; }

    /// <summary>The engine's status at the last look; null when not running.</summary>
    public TorrentStatus? Status { get; set; }

    /// <summary>What it is doing, and why.</summary>
    public TorrentActivity Activity { get; set; } = TorrentActivity.Paused;

    /// <summary>Why it is in <see cref="Activity"/>.</summary>
    public string Reason { get; set; } = "";

    /// <summary>The error that stopped it; cleared when the user resumes it.</summary>
    public string? Error { get; set; }

    /// <summary>Every wanted piece verified, as last known.</summary>
    public bool Complete { get; set; }

    /// <summary>Verified bytes of wanted data, as last known.</summary>
    public long DoneBytes { get; set; }

    /// <summary>Seconds seeding, all runs (up to now: kept as the time seeding began, not counted every second).</summary>
    public long SeedingSeconds => (long)(_seededBefore + Running(_seedingSince)).TotalSeconds;

    /// <summary>Seconds running (downloading or seeding), all runs, up to now.</summary>
    public long ActiveSeconds => (long)(_activeBefore + Running(_activeSince)).TotalSeconds;

    /// <summary>Its time counters are running (seeding or downloading in the engine): they move without a status change.</summary>
    public bool TimesRunning => _activeSince is not null;

    private TimeSpan Running(long? since) => since is { } start ? _time.GetElapsedTime(start) : TimeSpan.Zero;

    /// <summary>
    /// The engine's state as last seen (null: not in the engine): starts or stops the seeding and active clocks, folding
    /// a stretch that ended into the totals. True when a clock started or stopped. Loop only.
    /// </summary>
    public bool TrackTime(TorrentState? state)
    {
        bool active = state is TorrentState.Downloading or TorrentState.Seeding or TorrentState.FetchingMetadata;
        bool seeding = state == TorrentState.Seeding;
        bool changed = Track(active, ref _activeSince, ref _activeBefore);
        return Track(seeding, ref _seedingSince, ref _seededBefore) || changed;
    }

    private bool Track(bool on, ref long? since, ref TimeSpan before)
    {
        if (on == since is not null) return false;
        if (on)
        {
            since = _time.GetTimestamp();
        }
        else
        {
            before += _time.GetElapsedTime(since!.Value);
            since = null;
        }
        return true;
    }

    /// <summary>The engine status <see cref="StatusPass"/> last looked at: the same one again has nothing new.</summary>
    public TorrentStatus? ObservedStatus { get; set; }

    /// <summary><see cref="EnginePaused"/> when the status pass last looked (a change is looked at even without a new status).</summary>
    public bool ObservedPaused { get; set; }

    /// <summary>When it completed.</summary>
    public DateTimeOffset? CompletedAt { get; set; }

    /// <summary>When payload last moved.</summary>
    public DateTimeOffset? LastActivity { get; set; }

    /// <summary>When it last uploaded while seeding, for the idle goal (starts when seeding starts).</summary>
    public DateTimeOffset? LastSeedUpload { get; set; }

    /// <summary>Where it is in the engine.</summary>
    public EngineState Engine { get; set; }

    /// <summary>The queue (or a one-off check) wants it running in the engine.</summary>
    public bool Wanted { get; set; }

    /// <summary>The last start or stop in the engine; the next one is only begun once it has ended.</summary>
    public Task EngineWork { get; set; } = Task.CompletedTask;

    /// <summary>The engine status whose counters were folded into <see cref="Base"/> when a stop began.</summary>
    public TorrentStatus? Folded { get; set; }

    /// <summary>Stop and start again (a change the running engine torrent cannot take, e.g. the file selection).</summary>
    public bool RestartPending { get; set; }

    /// <summary>Running in the engine but paused there (not wanted now: paused, queued, or a seeding goal reached).</summary>
    public bool EnginePaused { get; set; }

    /// <summary>Forget the resume data at the next stop, so the next start checks every piece.</summary>
    public bool RecheckPending { get; set; }

    /// <summary>Run until the check is over whatever the queue says (a new torrent; a recheck of a paused or queued one).</summary>
    public bool CheckOnly { get; set; }

    /// <summary>
    /// Wanted in the engine for <see cref="CheckOnly"/> alone (paused, or no queue slot): it runs there paused, so its data
    /// is checked with no peer, no announce and no download, and it stays paused when the check ends.
    /// </summary>
    public bool CheckWithoutPeers { get; set; }

    /// <summary>
    /// Its files kept under other paths than the metainfo's (renamed through the engine; their record is the engine's
    /// resume data): file index → path under the save path, '/'-separated. Null when none is.
    /// </summary>
    public IReadOnlyDictionary<int, string>? RenamedFiles { get; set; }

    /// <summary>Its data is being moved to another folder: it stays out of the engine until that is over.</summary>
    public bool Relocating { get; set; }

    /// <summary>
    /// Its data was gone when it was to run (<see cref="MissingData"/>): held in error until a recheck, a resume (which
    /// looks again) or a new location.
    /// </summary>
    public bool MissingFiles { get; set; }

    /// <summary>Removed from the daemon: it never starts again.</summary>
    public bool Removed { get; set; }

    /// <summary>Why it was paused, when not by the user (a seeding goal).</summary>
    public string? PauseReason { get; set; }

    /// <summary>Counters changed since they were last written.</summary>
    public bool TotalsDirty { get; set; }

    /// <summary>The shown row changed since the last <see cref="DaemonEventKind.Updated"/> event.</summary>
    public bool ViewDirty { get; set; } = true;

    /// <summary>Payload bytes downloaded, all runs.</summary>
    public long Downloaded => Base.Downloaded + (Status?.Downloaded ?? 0);

    /// <summary>Payload bytes uploaded, all runs.</summary>
    public long Uploaded => Base.Uploaded + (Status?.Uploaded ?? 0);

    /// <summary>Its id.</summary>
    public long Id => Record.Id;

    /// <summary>The row shown to clients.</summary>
    public TorrentView View
    {
        get => Volatile.Read(ref _view)!;
        set => Volatile.Write(ref _view, value);
    }

    /// <summary>The counters to write.</summary>
    public TorrentTotals Totals => new(Uploaded, Downloaded, SeedingSeconds, ActiveSeconds, DoneBytes, CompletedAt, LastActivity);

    /// <summary>Bytes of the files not skipped (0 while the metadata is unknown).</summary>
    public long WantedSize
    {
        get
        {
            if (Metainfo is not { } torrent) return 0;
            if (Record.FilePriorities is not { } priorities) return torrent.TotalSize;
            // Views are rebuilt every second a torrent changes; the sum over its files only when priorities change.
            if (ReferenceEquals(_wanted.Priorities, priorities) && ReferenceEquals(_wanted.Metainfo, torrent)) return _wanted.Size;
            long wanted = 0;
            for (int i = 0; i < torrent.Files.Count; i++)
            {
                if (i >= priorities.Length || priorities[i] != (byte)FilePriority.Skip) wanted += torrent.Files[i].Length;
            }
            _wanted = (priorities, torrent, wanted);
            return wanted;
        }
    }
}
