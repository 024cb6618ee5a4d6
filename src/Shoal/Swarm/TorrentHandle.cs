using System.Net;
using Shoal.Metainfo;
using Shoal.Trackers;

namespace Shoal.Swarm;

/// <summary>The public face of one torrent in a session; every call posts to the torrent's actor or reads its snapshots.</summary>
public sealed class TorrentHandle
{
    private readonly TorrentActor _actor;
    private readonly Func<TorrentActor, Task> _remove;
    private readonly Func<IReadOnlyList<TrackerStatus>> _trackers;

    internal TorrentHandle(TorrentActor actor, Func<TorrentActor, Task> remove, Func<IReadOnlyList<TrackerStatus>> trackers)
    {
        _actor = actor;
        _remove = remove;
        _trackers = trackers;
    }

    /// <summary>The state of each of the torrent's trackers (last error, next announce, peers received).</summary>
    public IReadOnlyList<TrackerStatus> GetTrackers() => _trackers();

    /// <summary>The torrent's info-hash.</summary>
    public InfoHash InfoHash => _actor.InfoHash;

    /// <summary>The torrent's metainfo; null while a magnet link's metadata is being fetched.</summary>
    public Torrent? Torrent => _actor.Torrent;

    /// <summary>Completes with the metainfo once it is known (at once when added from a .torrent).</summary>
    public Task<Torrent> Metadata => _actor.Metadata;

    /// <summary>The latest snapshot (refreshed twice a second by the actor; never blocks).</summary>
    public TorrentStatus GetStatus() => _actor.Status;

    /// <summary>
    /// The latest snapshot of the connected peers: refreshed twice a second, when a peer joins, and when the download
    /// completes (a peer that left shows until the next refresh).
    /// </summary>
    public IReadOnlyList<PeerStatus> GetPeers() => _actor.PeerSnapshot;

    /// <summary>The latest snapshot of the torrent's web seeds (BEP 19 and BEP 17): state, traffic, last error. Empty when it has none.</summary>
    public IReadOnlyList<WebSeeds.WebSeedStatus> GetWebSeeds() => _actor.WebSeedSnapshot;

    /// <summary>
    /// Completes when every wanted piece is verified; faults with an <see cref="IOException"/> when the torrent
    /// stops on an error; is cancelled when the torrent is stopped first.
    /// </summary>
    public Task Completion => _actor.Completion;

    /// <summary>Dials more peers (under the connection limits). Returns false when the torrent's mailbox is full.</summary>
    public bool AddPeers(IEnumerable<IPEndPoint> peers, PeerSource source = PeerSource.Manual)
    {
        ArgumentNullException.ThrowIfNull(peers);
        return _actor.AddPeers(peers.ToArray(), source);
    }

    /// <summary>Stops the torrent and removes it from the session; data on disk stays.</summary>
    public Task StopAsync() => _remove(_actor);
}
