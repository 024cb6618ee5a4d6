using Shoal.Swarm;

namespace Shoal.Cli.Demo;

/// <summary>
/// For one leecher, how many payload bytes came from the seeder and how many from other peers. Fed with
/// peer snapshots: a connection's counter only grows, so the largest value seen is what it delivered; a
/// connection missing from a snapshot has closed and its bytes are folded into totals, which keeps the table
/// as small as the live peer list.
/// </summary>
internal sealed class ByteSourceTracker
{
    private readonly Dictionary<long, Connection> _connections = [];
    private readonly HashSet<long> _seen = [];
    private readonly List<long> _closed = [];
    private long _closedFromSeeder;
    private long _closedFromPeers;

    /// <summary>Bytes received from the seeder.</summary>
    public long FromSeeder
    {
        get
        {
            long total = _closedFromSeeder;
            foreach (Connection c in _connections.Values) if (c.FromSeeder) total += c.Bytes;
            return total;
        }
    }

    /// <summary>Bytes received from peers other than the seeder.</summary>
    public long FromPeers
    {
        get
        {
            long total = _closedFromPeers;
            foreach (Connection c in _connections.Values) if (!c.FromSeeder) total += c.Bytes;
            return total;
        }
    }

    /// <summary>Share of the received bytes that came from other peers, 0..1 (0 when nothing was received).</summary>
    public double PeerShare
    {
        get
        {
            long fromPeers = FromPeers;
            long total = fromPeers + FromSeeder;
            return total == 0 ? 0 : (double)fromPeers / total;
        }
    }

    /// <summary>Takes in one snapshot of the leecher's peers.</summary>
    public void Observe(IReadOnlyList<PeerStatus> peers, ReadOnlySpan<byte> seederPeerId)
    {
        _seen.Clear();
        foreach (PeerStatus peer in peers)
        {
            _seen.Add(peer.ConnectionId);
            bool fromSeeder = peer.PeerId.Span.SequenceEqual(seederPeerId);
            if (_connections.TryGetValue(peer.ConnectionId, out Connection known))
            {
                _connections[peer.ConnectionId] = known with { Bytes = Math.Max(known.Bytes, peer.Downloaded) };
            }
            else
            {
                _connections[peer.ConnectionId] = new Connection(peer.Downloaded, fromSeeder);
            }
        }

        _closed.Clear();
        foreach ((long id, Connection c) in _connections)
        {
            if (_seen.Contains(id)) continue;
            if (c.FromSeeder) _closedFromSeeder += c.Bytes; else _closedFromPeers += c.Bytes;
            _closed.Add(id);
        }
        foreach (long id in _closed) _connections.Remove(id);
    }

    private readonly record struct Connection(long Bytes, bool FromSeeder);
}
