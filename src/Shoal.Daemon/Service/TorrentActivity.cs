namespace Shoal.Daemon.Service;

/// <summary>What a daemon torrent is doing now (the reason goes beside it in <see cref="TorrentView.StateReason"/>).</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(SnakeCaseEnumConverter<TorrentActivity>))]
public enum TorrentActivity
{
    /// <summary>A magnet link: fetching the torrent's metadata from peers.</summary>
    FetchingMetadata,

    /// <summary>Checking the data on disk.</summary>
    Checking,

    /// <summary>Downloading (and uploading what it has).</summary>
    Downloading,

    /// <summary>Complete; uploading.</summary>
    Seeding,

    /// <summary>Paused: no connections; data and resume state kept.</summary>
    Paused,

    /// <summary>Started, incomplete, waiting for a download slot of the queue.</summary>
    QueuedDownload,

    /// <summary>Started, complete, waiting for a seeding slot of the queue.</summary>
    QueuedSeed,

    /// <summary>Stopped by an error (see <see cref="TorrentView.Error"/>).</summary>
    Error,
}
