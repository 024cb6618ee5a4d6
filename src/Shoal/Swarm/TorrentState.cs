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
    /// <summary>Stopped by the user or by disposal.</summary>
    Stopped,
    /// <summary>Stopped by an error; see <see cref="TorrentStatus.Error"/>.</summary>
    Error,
}
