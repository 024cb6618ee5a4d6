namespace Shoal.Trackers;

/// <summary>The <c>event</c> of an announce (BEP 3). Numbered as BEP 15 numbers them on the wire.</summary>
public enum AnnounceEvent
{
    /// <summary>A regular announce at the tracker's interval.</summary>
    None = 0,

    /// <summary>The download finished (sent once, not when the torrent started complete).</summary>
    Completed = 1,

    /// <summary>The first announce of a session to a tracker.</summary>
    Started = 2,

    /// <summary>The client is leaving the swarm.</summary>
    Stopped = 3,
}
