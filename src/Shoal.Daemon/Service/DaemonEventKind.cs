namespace Shoal.Daemon.Service;

/// <summary>What a <see cref="DaemonEvent"/> reports. Never per block: at most one <see cref="Updated"/> a second.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(SnakeCaseEnumConverter<DaemonEventKind>))]
public enum DaemonEventKind
{
    /// <summary>A torrent was added.</summary>
    Added,

    /// <summary>A magnet link's metadata arrived: files and size are known now.</summary>
    MetadataReceived,

    /// <summary>A torrent's state changed (see <see cref="DaemonEvent.State"/> and the reason in the message).</summary>
    StateChanged,

    /// <summary>A torrent's wanted data is all downloaded and verified.</summary>
    Finished,

    /// <summary>A torrent stopped on an error.</summary>
    Error,

    /// <summary>A torrent was removed.</summary>
    Removed,

    /// <summary>A tracker of a torrent failed.</summary>
    TrackerError,

    /// <summary>A file of a torrent is complete.</summary>
    FileCompleted,

    /// <summary>Torrents whose shown values (progress, rates, peers, ...) changed in the last second: the rows in full.</summary>
    Updated,

    /// <summary>The daemon's settings changed.</summary>
    SettingsChanged,

    /// <summary>Categories were created, changed or deleted.</summary>
    CategoriesChanged,

    /// <summary>Tags were created or deleted.</summary>
    TagsChanged,

    /// <summary>Events were lost (a reader too slow, or a reconnect from too long ago): fetch the list again.</summary>
    Resync,
}
