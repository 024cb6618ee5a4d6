namespace Shoal.Swarm;

/// <summary>What the session does with a torrent that reached one of its <see cref="SeedingGoals"/>.</summary>
public enum SeedingGoalAction
{
    /// <summary>The torrent is paused (it stays in the session with its data; resuming it while the goal still holds pauses it again).</summary>
    Pause,

    /// <summary>The torrent leaves the session; its data stays on disk.</summary>
    Remove,
}
