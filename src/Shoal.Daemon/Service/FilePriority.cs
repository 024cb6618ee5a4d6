namespace Shoal.Daemon.Service;

/// <summary>How much a file is wanted (libtorrent's scale, as stored: 0 skip, 1 low, 4 normal, 7 high).</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(SnakeCaseEnumConverter<FilePriority>))]
public enum FilePriority : byte
{
    /// <summary>Not downloaded: never requested, never written.</summary>
    Skip = 0,

    /// <summary>Downloaded after everything of higher priority.</summary>
    Low = 1,

    /// <summary>The default.</summary>
    Normal = 4,

    /// <summary>Downloaded first.</summary>
    High = 7,
}
