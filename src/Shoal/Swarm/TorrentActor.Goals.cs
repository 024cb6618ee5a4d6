namespace Shoal.Swarm;

// The torrent's own seeding goals, kept in its options so a restart under the same handle keeps them.
internal sealed partial class TorrentActor
{
    /// <summary>Sets the torrent's own seeding goals (null: the session's). Loop only.</summary>
    public bool SetSeedingGoals(SeedingGoals? goals)
    {
        _t.Options = _t.Options with { SeedingGoals = goals };
        return true;
    }
}
