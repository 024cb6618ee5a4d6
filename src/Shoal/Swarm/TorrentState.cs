namespace Shoal.Swarm;

/// <summary>What a torrent is doing.</summary>
public enum TorrentState
{
    /// <summary>A magnet link: fetching the info dictionary from peers (BEP 9).</summary>
    FetchingMetadata,
    /// <summary>Verifying the data already on disk.</summary>
    Checking,
    /// <summary>Fetching pieces (and uploading what it has).</summary>
    Downloading,
    /// <summary>All data verified; uploading only.</summary>
    Seeding,
    /// <summary>
    /// Writing failed (disk full, read-only folder): no new blocks are requested, uploads go on, and writing is
    /// retried periodically; see <see cref="TorrentStatus.Error"/> for why.
    /// </summary>
    Paused,
    /// <summary>
    /// Paused by the user (<see cref="TorrentHandle.PauseAsync"/>): no peers, no announces, no timer; the verified
    /// pieces, the priorities and the partly downloaded pieces' state are kept, and resuming needs no check.
    /// </summary>
    Suspended,
    /// <summary>Stopped by the user or by disposal.</summary>
    Stopped,
    /// <summary>Stopped by an error; see <see cref="TorrentStatus.Error"/>.</summary>
    Error,
    // Added after the 0.1.0 values (PublicAPI.Shipped.txt): existing numbers keep their meaning.

    /// <summary>
    /// Waiting for a slot of the session's queue (<see cref="SessionOptions.MaxActiveDownloads"/>,
    /// <see cref="SessionOptions.MaxActiveSeeds"/>): paused as <see cref="Suspended"/>, started by the session when a slot frees.
    /// </summary>
    Queued,
}
