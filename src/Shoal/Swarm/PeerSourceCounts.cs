namespace Shoal.Swarm;

/// <summary>How many connected peers each discovery channel brought (a peer known from two channels counts in both).</summary>
/// <param name="Manual">Given by the user or the magnet link.</param>
/// <param name="Incoming">Dialled us.</param>
/// <param name="Tracker">From a tracker.</param>
/// <param name="Pex">From peer exchange.</param>
/// <param name="Lsd">From local service discovery.</param>
/// <param name="Dht">From the DHT.</param>
public sealed record PeerSourceCounts(int Manual, int Incoming, int Tracker, int Pex, int Lsd, int Dht)
{
    /// <summary>No peers.</summary>
    public static PeerSourceCounts None { get; } = new(0, 0, 0, 0, 0, 0);

    /// <summary>"tracker 2, dht 1" — the non-zero channels, or "none".</summary>
    public override string ToString()
    {
        var parts = new List<string>(6);
        if (Tracker > 0) parts.Add($"tracker {Tracker}");
        if (Dht > 0) parts.Add($"dht {Dht}");
        if (Pex > 0) parts.Add($"pex {Pex}");
        if (Lsd > 0) parts.Add($"lsd {Lsd}");
        if (Manual > 0) parts.Add($"manual {Manual}");
        if (Incoming > 0) parts.Add($"incoming {Incoming}");
        return parts.Count == 0 ? "none" : string.Join(", ", parts);
    }
}
