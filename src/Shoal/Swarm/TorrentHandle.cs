using System.Net;
using Shoal.Metainfo;

namespace Shoal.Swarm;

/// <summary>The public face of one torrent in a session; every call posts to the torrent's actor.</summary>
public sealed class TorrentHandle
{
    /// <summary>The torrent's metainfo.</summary>
    public Torrent Torrent => throw new NotImplementedException();

    /// <summary>The latest snapshot (refreshed several times a second by the actor; never blocks).</summary>
    public TorrentStatus GetStatus() => throw new NotImplementedException();

    /// <summary>The latest snapshot of the connected peers.</summary>
    public IReadOnlyList<PeerStatus> GetPeers() => throw new NotImplementedException();

    /// <summary>Completes when every wanted piece is verified; faults when the torrent stops on an error.</summary>
    public Task Completion => throw new NotImplementedException();

    /// <summary>Dials more peers (under the connection limits).</summary>
    public void AddPeers(IEnumerable<IPEndPoint> peers) => throw new NotImplementedException();

    /// <summary>Stops the torrent and removes it from the session; data on disk stays.</summary>
    public Task StopAsync() => throw new NotImplementedException();
}
