using Shoal.Trackers;

namespace Shoal.Swarm;

/// <summary>
/// A torrent of the session with the parts the session runs for it (trackers, DHT announces). The actor changes when
/// the torrent restarts under the same handle; <see cref="Gate"/> keeps pause, resume, restart and removal one at a time.
/// </summary>
internal sealed class SessionTorrent(TorrentActor actor, IReadOnlyList<IReadOnlyList<string>> trackerTiers)
{
    private volatile TorrentActor _actor = actor;

    public TorrentActor Actor { get => _actor; set => _actor = value; }

    public TorrentHandle? Handle { get; set; }

    /// <summary>Null while paused (they said "stopped") or when the torrent has no usable tracker.</summary>
    public TorrentTrackers? Trackers { get; set; }

    /// <summary>What the trackers said last, shown while they are stopped.</summary>
    public IReadOnlyList<TrackerStatus> LastTrackerStatus { get; set; } = [];

    /// <summary>The torrent's tracker tiers (its own, its magnet link's, the caller's), kept for restarts.</summary>
    public IReadOnlyList<IReadOnlyList<string>> TrackerTiers { get; } = trackerTiers;

    /// <summary>Ends the DHT announce loop (pause, restart, removal).</summary>
    public CancellationTokenSource? DhtStop { get; set; }

    private SemaphoreSlim? _gate;

    /// <summary>One change of the torrent's run state at a time (made on first use: most torrents are never paused).</summary>
    public SemaphoreSlim Gate
    {
        get
        {
            if (Volatile.Read(ref _gate) is { } gate) return gate;
            Interlocked.CompareExchange(ref _gate, new SemaphoreSlim(1, 1), null);
            return _gate;
        }
    }

    /// <summary>Set once the torrent left the session: calls through its handle fail.</summary>
    public bool Removed { get; set; }

    /// <summary>Paused by the user: the queue leaves it alone.</summary>
    public bool UserPaused { get; set; }

    /// <summary>Started by the user whatever the queue says (it takes no queue slot).</summary>
    public bool ForceStarted { get; set; }

    /// <summary>Paused by the queue (shown as <see cref="TorrentState.Queued"/>).</summary>
    public bool Queued { get; set; }

    /// <summary>Paused in its actor (by the user or the queue) and not announced.</summary>
    public bool ActorPaused { get; set; }

    /// <summary>Its place in the queue: lower runs first (numbers are unique, not contiguous).</summary>
    public long QueueOrder { get; set; }

    /// <summary>Its seeding time and idle time, for the seeding goals.</summary>
    public SeedingClock Seeding { get; } = new();
}
