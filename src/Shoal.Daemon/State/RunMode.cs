namespace Shoal.Daemon.State;

/// <summary>What the user asked a torrent to do; the queue decides when a started torrent actually runs.</summary>
public enum RunMode
{
    /// <summary>Paused by the user (or by a seeding goal): no connections, data and resume state kept.</summary>
    Paused = 0,

    /// <summary>Started: runs when the queue has room for it.</summary>
    Started = 1,

    /// <summary>Force-started: runs whatever the queue says.</summary>
    Forced = 2,
}
