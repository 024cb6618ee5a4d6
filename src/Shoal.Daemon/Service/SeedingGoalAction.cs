namespace Shoal.Daemon.Service;

/// <summary>What happens to a torrent that reached a seeding goal.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(SnakeCaseEnumConverter<SeedingGoalAction>))]
public enum SeedingGoalAction
{
    /// <summary>It is paused (it stays in the daemon, with its data).</summary>
    Pause,

    /// <summary>It is removed from the daemon; its data stays on disk.</summary>
    Remove,
}
