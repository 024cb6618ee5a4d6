using System.Net;

namespace Shoal.Dht;

/// <summary>
/// The peers announced to this node (announce_peer), per info-hash, bounded on every axis so an announce flood
/// cannot exhaust memory: at most <see cref="MaxInfoHashes"/> info-hashes (a new one beyond the cap is dropped),
/// <see cref="MaxPeersPerInfoHash"/> peers each (a new peer replaces the one announced longest ago), and each
/// peer expires <see cref="PeerLifetime"/> after its last announce. Single owner.
/// </summary>
public sealed class PeerStore
{
    private readonly TimeProvider _time;
    private readonly Dictionary<NodeId, List<Entry>> _peers = [];

    /// <summary>Creates an empty store.</summary>
    public PeerStore(TimeProvider time, int maxInfoHashes = 2000, int maxPeersPerInfoHash = 200)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxInfoHashes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPeersPerInfoHash, 1);
        _time = time;
        MaxInfoHashes = maxInfoHashes;
        MaxPeersPerInfoHash = maxPeersPerInfoHash;
    }

    /// <summary>Most info-hashes stored.</summary>
    public int MaxInfoHashes { get; }

    /// <summary>Most peers stored per info-hash.</summary>
    public int MaxPeersPerInfoHash { get; }

    /// <summary>How long an announce lasts (BEP 5 practice: 30 minutes).</summary>
    public TimeSpan PeerLifetime { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>Info-hashes currently stored.</summary>
    public int InfoHashCount => _peers.Count;

    /// <summary>Peers currently stored, all info-hashes together.</summary>
    public int PeerCount
    {
        get
        {
            int n = 0;
            foreach (List<Entry> list in _peers.Values) n += list.Count;
            return n;
        }
    }

    /// <summary>Records an announce. False when dropped because the info-hash cap is reached.</summary>
    public bool Add(NodeId infoHash, IPEndPoint peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        DateTimeOffset now = _time.GetUtcNow();
        if (!_peers.TryGetValue(infoHash, out List<Entry>? list))
        {
            if (_peers.Count >= MaxInfoHashes)
            {
                ExpireAll();
                if (_peers.Count >= MaxInfoHashes) return false;
            }
            list = [];
            _peers[infoHash] = list;
        }
        for (int i = 0; i < list.Count; i++)
        {
            if (list[i].Peer.Equals(peer))
            {
                list[i] = new Entry(peer, now);
                return true;
            }
        }
        if (list.Count >= MaxPeersPerInfoHash)
        {
            Expire(list, now);
            if (list.Count >= MaxPeersPerInfoHash)
            {
                int oldest = 0;
                for (int i = 1; i < list.Count; i++) if (list[i].AnnouncedAt < list[oldest].AnnouncedAt) oldest = i;
                list.RemoveAt(oldest);
            }
        }
        list.Add(new Entry(peer, now));
        return true;
    }

    /// <summary>Up to <paramref name="max"/> unexpired peers for the info-hash, a random sample when there are more.</summary>
    public List<IPEndPoint> Get(NodeId infoHash, int max, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var result = new List<IPEndPoint>();
        if (!_peers.TryGetValue(infoHash, out List<Entry>? list)) return result;
        Expire(list, _time.GetUtcNow());
        if (list.Count == 0)
        {
            _peers.Remove(infoHash);
            return result;
        }
        if (list.Count <= max)
        {
            foreach (Entry e in list) result.Add(e.Peer);
            return result;
        }
        // Reservoir sample so every stored peer gets a fair chance of being handed out.
        for (int i = 0; i < list.Count; i++)
        {
            if (result.Count < max) result.Add(list[i].Peer);
            else
            {
                int j = random.Next(i + 1);
                if (j < max) result[j] = list[i].Peer;
            }
        }
        return result;
    }

    /// <summary>Drops every expired peer and empty info-hash.</summary>
    public void ExpireAll()
    {
        DateTimeOffset now = _time.GetUtcNow();
        List<NodeId>? empty = null;
        foreach (KeyValuePair<NodeId, List<Entry>> pair in _peers)
        {
            Expire(pair.Value, now);
            if (pair.Value.Count == 0) (empty ??= []).Add(pair.Key);
        }
        if (empty is null) return;
        foreach (NodeId key in empty) _peers.Remove(key);
    }

    private void Expire(List<Entry> list, DateTimeOffset now)
        => list.RemoveAll(e => now - e.AnnouncedAt >= PeerLifetime);

    private readonly record struct Entry(IPEndPoint Peer, DateTimeOffset AnnouncedAt);
}
