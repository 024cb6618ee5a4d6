using Shoal.Metainfo;

namespace Shoal.Swarm;

/// <summary>What happened to a torrent (never per block: a busy session emits a few of these a second at most).</summary>
public enum SessionEventKind
{
    /// <summary>The torrent joined the session.</summary>
    Added,
    /// <summary>A magnet link's info dictionary arrived and was verified.</summary>
    MetadataReceived,
    /// <summary>The torrent's <see cref="TorrentState"/> changed (see <see cref="SessionEvent.State"/>).</summary>
    StateChanged,
    /// <summary>Every wanted piece is verified (a download ended in this run).</summary>
    Finished,
    /// <summary>The torrent stopped on an error (see <see cref="SessionEvent.Message"/>).</summary>
    Error,
    /// <summary>The torrent left the session.</summary>
    Removed,
    /// <summary>A tracker's announce failed (see <see cref="SessionEvent.Message"/>, the tracker's URL and the reason).</summary>
    TrackerError,
    /// <summary>Every piece of a wanted file is verified (see <see cref="SessionEvent.FileIndex"/>).</summary>
    FileCompleted,
    /// <summary>
    /// A seed reached one of its <see cref="SeedingGoals"/> (see <see cref="SessionEvent.Message"/>, which one); it is
    /// paused or removed next, as the goals' <see cref="SeedingGoals.Action"/> says.
    /// </summary>
    SeedingGoalReached,
}

/// <summary>One item of the session's event stream (<see cref="ShoalSession.ReadEventsAsync"/>).</summary>
/// <param name="Kind">What happened.</param>
/// <param name="InfoHash">The torrent it happened to.</param>
/// <param name="Name">The torrent's name (its display name while a magnet link's metadata is missing).</param>
/// <param name="State">The torrent's state after the event.</param>
/// <param name="Message">The error or tracker failure, when there is one.</param>
/// <param name="FileIndex">The file, for <see cref="SessionEventKind.FileCompleted"/>; otherwise -1.</param>
public sealed record SessionEvent(SessionEventKind Kind, InfoHash InfoHash, string Name, TorrentState State, string? Message = null, int FileIndex = -1);
