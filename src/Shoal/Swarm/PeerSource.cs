namespace Shoal.Swarm;

/// <summary>How we learned of a peer. Flags: the same address can come from several places.</summary>
[Flags]
public enum PeerSource
{
    /// <summary>Not known.</summary>
    None = 0,
    /// <summary>Given by the user or the magnet link (x.pe).</summary>
    Manual = 1,
    /// <summary>It connected to us.</summary>
    Incoming = 2,
    /// <summary>A tracker's announce response.</summary>
    Tracker = 4,
    /// <summary>Peer exchange (BEP 11).</summary>
    Pex = 8,
    /// <summary>Local service discovery (BEP 14).</summary>
    Lsd = 16,
    /// <summary>The DHT (BEP 5).</summary>
    Dht = 32,
}
