namespace Shoal.Daemon.Service;

/// <summary>Where a daemon torrent is in the engine.</summary>
internal enum EngineState
{
    /// <summary>Not in the engine.</summary>
    Stopped,

    /// <summary>Being added to the engine.</summary>
    Starting,

    /// <summary>In the engine.</summary>
    Running,

    /// <summary>Being removed from the engine (its resume data saved on the way).</summary>
    Stopping,
}
