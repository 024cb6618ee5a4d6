namespace Shoal.Daemon.Service;

/// <summary>Where torrents move in the queue.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(SnakeCaseEnumConverter<QueueMove>))]
public enum QueueMove
{
    /// <summary>To the front, keeping their order.</summary>
    Top,

    /// <summary>One place forward.</summary>
    Up,

    /// <summary>One place back.</summary>
    Down,

    /// <summary>To the end, keeping their order.</summary>
    Bottom,
}
