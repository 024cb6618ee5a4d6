namespace Shoal.Swarm;

// Connection limits and upload slots changed at runtime: the torrent's own, and the session's reaching its peers.
internal sealed partial class TorrentActor
{
    /// <summary>
    /// Sets the torrent's own connection limit and upload slots (0: the session's) and closes the peers past the limit
    /// now in force. Loop only.
    /// </summary>
    public bool SetConnectionLimits(int maxConnections, int uploadSlots)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxConnections);
        ArgumentOutOfRangeException.ThrowIfNegative(uploadSlots);
        _t.Options = _t.Options with { MaxConnections = maxConnections, UploadSlots = uploadSlots };
        TrimPeers(int.MaxValue);
        return true;
    }

    /// <summary>
    /// Closes peers until at most <paramref name="most"/> and the torrent's limit (its own, else the session's per-torrent
    /// one) are connected: those that gave us the least first, the newest among equals, so the peers that feed the download
    /// stay. Returns how many were closed. Loop only.
    /// </summary>
    public int TrimPeers(int most)
    {
        int limit = Math.Min(most, _t.Options.MaxConnections > 0 ? _t.Options.MaxConnections : _t.Session.Options.MaxConnectionsPerTorrent);
        int excess = _t.Peers.Count - Math.Max(0, limit);
        if (excess <= 0) return 0;
        PeerConnection[] victims = [.. _t.Peers.All.OrderBy(p => p.DownloadMeter.BytesPerSecond + p.UploadMeter.BytesPerSecond)
            .ThenBy(p => p.Downloaded).ThenByDescending(p => p.Key).Take(excess)];
        foreach (PeerConnection peer in victims) peer.Close("connection limit lowered");
        return victims.Length;
    }
}
