using Shoal.Metainfo;

namespace Shoal.Daemon.State;

/// <summary>
/// Everything the daemon remembers of one torrent apart from its counters and resume data: what it is, where it
/// lives, what the user asked of it. Immutable: a change is a new record written in a transaction.
/// </summary>
public sealed record TorrentRecord
{
    /// <summary>The daemon's number for the torrent: stable for its lifetime in the daemon, never reused.</summary>
    public long Id { get; init; }

    /// <summary>The torrent's info-hash.</summary>
    public required InfoHash InfoHash { get; init; }

    /// <summary>Display name: the torrent's name, or the magnet's until the metadata arrives.</summary>
    public required string Name { get; init; }

    /// <summary>The .torrent file's bytes; null while a magnet link's metadata is being fetched.</summary>
    public byte[]? Metainfo { get; init; }

    /// <summary>The magnet link the torrent was added from, if it was.</summary>
    public string? Magnet { get; init; }

    /// <summary>The folder the torrent's content lives in (DIR of DIR/NAME).</summary>
    public required string SavePath { get; init; }

    /// <summary>What the user asked the torrent to do.</summary>
    public RunMode RunMode { get; init; } = RunMode.Started;

    /// <summary>Place in the queue, from 0 (first to run).</summary>
    public int QueuePosition { get; init; }

    /// <summary>The category, if any.</summary>
    public string? Category { get; init; }

    /// <summary>The tags, sorted.</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>When it was added.</summary>
    public DateTimeOffset AddedAt { get; init; }

    /// <summary>Limits, sequential mode, seeding goals, extra trackers.</summary>
    public TorrentSettings Settings { get; init; } = new();

    /// <summary>One priority per file (libtorrent's scale: 0 skip, 1 low, 4 normal, 7 high); null means all normal.</summary>
    public byte[]? FilePriorities { get; init; }
}
