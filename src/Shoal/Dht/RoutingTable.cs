using System.Net;

namespace Shoal.Dht;

/// <summary>What <see cref="RoutingTable.Observe"/> did with a node.</summary>
public enum RoutingAddResult
{
    /// <summary>Already in the table; its timestamps were updated.</summary>
    Updated,

    /// <summary>Added to a bucket (possibly after a split, or replacing a bad node).</summary>
    Added,

    /// <summary>The bucket is full of live nodes: kept in the bucket's replacement cache.</summary>
    ReplacementCached,

    /// <summary>Not kept (our own id, an endpoint clash, or a non-compliant id while BEP 42 is enforced).</summary>
    Rejected,
}

/// <summary>
/// The Kademlia routing table of BEP 5 for one address family: k-buckets over the 160-bit space, the bucket
/// holding our own id splits when full. Pure and single-owner: no I/O, no timers, no locks; time comes from the
/// <see cref="TimeProvider"/>. Its owner reacts to what it reports (pings the nodes it names, refreshes the
/// buckets it names).
/// </summary>
/// <remarks>
/// Bucket i (for i below the last) holds ids sharing exactly i leading bits with ours; the last bucket holds all ids
/// sharing at least that many. Full buckets keep newcomers in a replacement cache of the same size; a
/// questionable node is pinged before it is evicted, and a bad one (failed twice in a row) is replaced at once by
/// the best replacement (BEP 42-compliant first, then the most recently seen).
/// </remarks>
public sealed class RoutingTable
{
    /// <summary>Nodes per bucket (BEP 5 K).</summary>
    public const int K = 8;

    /// <summary>A node that failed this many queries in a row is bad.</summary>
    public const int MaxFailures = 2;

    private readonly TimeProvider _time;
    private readonly List<Bucket> _buckets = [];
    private readonly Dictionary<NodeId, RoutingNode> _byId = [];
    private readonly Dictionary<IPEndPoint, NodeId> _byEndPoint = [];

    /// <summary>Creates an empty table around <paramref name="ownId"/>.</summary>
    public RoutingTable(NodeId ownId, TimeProvider time, bool enforceSecureIds = false)
    {
        ArgumentNullException.ThrowIfNull(time);
        OwnId = ownId;
        _time = time;
        EnforceSecureIds = enforceSecureIds;
        _buckets.Add(new Bucket(time.GetUtcNow()));
    }

    /// <summary>Our own id: the table is split around it.</summary>
    public NodeId OwnId { get; }

    /// <summary>Nodes whose id is not BEP 42 compliant for their address are not added at all.</summary>
    public bool EnforceSecureIds { get; }

    /// <summary>How long after its last response a node stays good (BEP 5: 15 minutes).</summary>
    public TimeSpan GoodFor { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>A bucket unchanged for this long is refreshed with a lookup (BEP 5: 15 minutes).</summary>
    public TimeSpan RefreshInterval { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>A questionable node is pinged at most this often.</summary>
    public TimeSpan PingInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Nodes in buckets (replacements not counted).</summary>
    public int Count => _byId.Count;

    /// <summary>Number of buckets.</summary>
    public int BucketCount => _buckets.Count;

    /// <summary>The nodes of bucket <paramref name="index"/> (0 = farthest from us).</summary>
    public IReadOnlyList<RoutingNode> GetBucket(int index) => _buckets[index].Nodes;

    /// <summary>The replacement cache of bucket <paramref name="index"/>.</summary>
    public IReadOnlyList<RoutingNode> GetReplacements(int index) => _buckets[index].Replacements;

    /// <summary>Which bucket an id falls in.</summary>
    public int BucketIndexOf(NodeId id) => Math.Min(OwnId.CommonPrefixLength(id), _buckets.Count - 1);

    /// <summary>The node with this id, if in a bucket.</summary>
    public RoutingNode? Find(NodeId id) => _byId.GetValueOrDefault(id);

    /// <summary>The node at this endpoint, if in a bucket.</summary>
    public RoutingNode? FindByEndPoint(IPEndPoint endPoint)
        => _byEndPoint.TryGetValue(endPoint, out NodeId id) ? _byId.GetValueOrDefault(id) : null;

    /// <summary>The state of a node now.</summary>
    public NodeState StateOf(RoutingNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return node.StateAt(_time.GetUtcNow(), GoodFor, MaxFailures);
    }

    /// <summary>
    /// Records that a node sent us something: a response (<paramref name="responded"/>) or a query. Adds it when
    /// there is room (splitting our own bucket or replacing a bad node), else caches it as a replacement.
    /// <paramref name="pingCandidate"/> is set to a questionable node of the full bucket that the owner should
    /// ping now: if it fails, <see cref="OnFailure"/> evicts it in favour of the replacement.
    /// </summary>
    public RoutingAddResult Observe(NodeContact contact, bool responded, out RoutingNode? pingCandidate)
    {
        pingCandidate = null;
        DateTimeOffset now = _time.GetUtcNow();
        if (contact.Id == OwnId || contact.EndPoint.Port == 0) return RoutingAddResult.Rejected;

        if (_byId.TryGetValue(contact.Id, out RoutingNode? existing))
        {
            // An id seen from a new endpoint keeps the old endpoint: otherwise anyone could hijack a table entry.
            if (!existing.EndPoint.Equals(contact.EndPoint)) return RoutingAddResult.Rejected;
            existing.LastSeen = now;
            if (responded)
            {
                existing.LastResponse = now;
                existing.FailedQueries = 0;
                _buckets[BucketIndexOf(contact.Id)].LastChanged = now;
            }
            return RoutingAddResult.Updated;
        }
        if (_byEndPoint.ContainsKey(contact.EndPoint)) return RoutingAddResult.Rejected;

        bool secure = contact.Id.IsSecureFor(contact.EndPoint.Address);
        if (EnforceSecureIds && !secure) return RoutingAddResult.Rejected;

        var node = new RoutingNode(contact, secure, now) { LastResponse = responded ? now : null };
        while (true)
        {
            int index = BucketIndexOf(contact.Id);
            Bucket bucket = _buckets[index];
            if (bucket.Nodes.Count < K)
            {
                Insert(bucket, node, now);
                return RoutingAddResult.Added;
            }
            if (index == _buckets.Count - 1 && _buckets.Count < NodeId.Bits)
            {
                Split();
                continue;
            }

            RoutingNode? bad = null, oldestQuestionable = null;
            foreach (RoutingNode n in bucket.Nodes)
            {
                NodeState state = n.StateAt(now, GoodFor, MaxFailures);
                if (state == NodeState.Bad) { bad = n; break; }
                if (state == NodeState.Questionable && (oldestQuestionable is null || n.LastSeen < oldestQuestionable.LastSeen)) oldestQuestionable = n;
            }
            if (bad is not null)
            {
                Remove(bucket, bad);
                Insert(bucket, node, now);
                return RoutingAddResult.Added;
            }

            AddReplacement(bucket, node);
            if (oldestQuestionable is not null && (oldestQuestionable.LastPinged is not { } p || now - p >= PingInterval))
            {
                oldestQuestionable.LastPinged = now;
                pingCandidate = oldestQuestionable;
            }
            return RoutingAddResult.ReplacementCached;
        }
    }

    /// <summary>
    /// Records that a node failed to answer a query. Once bad, it is replaced by the best replacement if there is one
    /// (a bad node with no replacement stays: it may come back, and an empty slot is no better).
    /// </summary>
    public void OnFailure(NodeId id)
    {
        if (!_byId.TryGetValue(id, out RoutingNode? node))
        {
            RemoveReplacement(id);
            return;
        }
        node.FailedQueries++;
        DateTimeOffset now = _time.GetUtcNow();
        if (node.StateAt(now, GoodFor, MaxFailures) != NodeState.Bad) return;
        Bucket bucket = _buckets[BucketIndexOf(id)];
        RoutingNode? replacement = TakeBestReplacement(bucket);
        if (replacement is null) return;
        Remove(bucket, node);
        Insert(bucket, replacement, now);
    }

    /// <summary>Removes a node (for example one that turned out to be read-only or hostile).</summary>
    public bool Remove(NodeId id)
    {
        if (!_byId.TryGetValue(id, out RoutingNode? node)) return RemoveReplacement(id);
        Remove(_buckets[BucketIndexOf(id)], node);
        return true;
    }

    /// <summary>
    /// Up to <paramref name="count"/> non-bad nodes closest to <paramref name="target"/>, closest first.
    /// Good nodes are preferred to questionable ones only through distance (BEP 5 returns the closest known).
    /// </summary>
    public List<NodeContact> Closest(NodeId target, int count)
    {
        DateTimeOffset now = _time.GetUtcNow();
        var all = new List<RoutingNode>(_byId.Count);
        foreach (RoutingNode node in _byId.Values)
        {
            if (node.StateAt(now, GoodFor, MaxFailures) != NodeState.Bad) all.Add(node);
        }
        all.Sort((x, y) => target.CompareDistance(x.Id, y.Id));
        var result = new List<NodeContact>(Math.Min(count, all.Count));
        for (int i = 0; i < all.Count && result.Count < count; i++) result.Add(all[i].Contact);
        return result;
    }

    /// <summary>All nodes in buckets, for persistence and statistics.</summary>
    public List<RoutingNode> AllNodes()
    {
        var list = new List<RoutingNode>(_byId.Count);
        foreach (Bucket b in _buckets) list.AddRange(b.Nodes);
        return list;
    }

    /// <summary>
    /// Targets for buckets not changed within <see cref="RefreshInterval"/>: a random id in each such bucket's range.
    /// Marks those buckets refreshed so they are not returned again until they go stale again.
    /// </summary>
    public List<NodeId> TakeRefreshTargets(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        DateTimeOffset now = _time.GetUtcNow();
        var targets = new List<NodeId>();
        for (int i = 0; i < _buckets.Count; i++)
        {
            if (now - _buckets[i].LastChanged < RefreshInterval) continue;
            _buckets[i].LastChanged = now;
            targets.Add(OwnId.RandomWithPrefix(Math.Min(i, NodeId.Bits - 1), random));
        }
        return targets;
    }

    /// <summary>Up to <paramref name="max"/> questionable nodes not pinged within <see cref="PingInterval"/>; marks them pinged.</summary>
    public List<RoutingNode> TakeNodesToPing(int max)
    {
        DateTimeOffset now = _time.GetUtcNow();
        var list = new List<RoutingNode>();
        foreach (Bucket b in _buckets)
        {
            foreach (RoutingNode n in b.Nodes)
            {
                if (list.Count >= max) return list;
                if (n.StateAt(now, GoodFor, MaxFailures) != NodeState.Questionable) continue;
                if (n.LastPinged is { } p && now - p < PingInterval) continue;
                n.LastPinged = now;
                list.Add(n);
            }
        }
        return list;
    }

    private void Insert(Bucket bucket, RoutingNode node, DateTimeOffset now)
    {
        bucket.Nodes.Add(node);
        bucket.LastChanged = now;
        _byId[node.Id] = node;
        _byEndPoint[node.EndPoint] = node.Id;
    }

    private void Remove(Bucket bucket, RoutingNode node)
    {
        bucket.Nodes.Remove(node);
        _byId.Remove(node.Id);
        _byEndPoint.Remove(node.EndPoint);
    }

    private void Split()
    {
        DateTimeOffset now = _time.GetUtcNow();
        int depth = _buckets.Count - 1;
        Bucket old = _buckets[depth];
        var near = new Bucket(now);
        _buckets.Add(near);
        for (int i = old.Nodes.Count - 1; i >= 0; i--)
        {
            RoutingNode n = old.Nodes[i];
            if (OwnId.CommonPrefixLength(n.Id) > depth)
            {
                old.Nodes.RemoveAt(i);
                near.Nodes.Add(n);
            }
        }
        for (int i = old.Replacements.Count - 1; i >= 0; i--)
        {
            RoutingNode n = old.Replacements[i];
            if (OwnId.CommonPrefixLength(n.Id) > depth)
            {
                old.Replacements.RemoveAt(i);
                near.Replacements.Add(n);
            }
        }
        // Replacements can fill the room the split made.
        FillFromReplacements(old, now);
        FillFromReplacements(near, now);
    }

    private void FillFromReplacements(Bucket bucket, DateTimeOffset now)
    {
        while (bucket.Nodes.Count < K && TakeBestReplacement(bucket) is { } r) Insert(bucket, r, now);
    }

    private static void AddReplacement(Bucket bucket, RoutingNode node)
    {
        for (int i = 0; i < bucket.Replacements.Count; i++)
        {
            if (bucket.Replacements[i].Id == node.Id || bucket.Replacements[i].EndPoint.Equals(node.EndPoint))
            {
                bucket.Replacements[i] = node;
                return;
            }
        }
        if (bucket.Replacements.Count >= K)
        {
            // Full: drop the oldest non-compliant entry first (BEP 42 preference), else the oldest; a non-compliant
            // newcomer never pushes out a compliant one.
            int victim = -1;
            for (int i = 0; i < bucket.Replacements.Count; i++)
            {
                if (!bucket.Replacements[i].IsSecure) { victim = i; break; }
            }
            if (victim < 0)
            {
                if (!node.IsSecure) return;
                victim = 0;
            }
            bucket.Replacements.RemoveAt(victim);
        }
        bucket.Replacements.Add(node);
    }

    private static RoutingNode? TakeBestReplacement(Bucket bucket)
    {
        int best = -1;
        for (int i = bucket.Replacements.Count - 1; i >= 0; i--)
        {
            RoutingNode r = bucket.Replacements[i];
            if (best < 0 || (r.IsSecure && !bucket.Replacements[best].IsSecure)) best = i;
        }
        if (best < 0) return null;
        RoutingNode chosen = bucket.Replacements[best];
        bucket.Replacements.RemoveAt(best);
        return chosen;
    }

    private bool RemoveReplacement(NodeId id)
    {
        foreach (Bucket b in _buckets)
        {
            int i = b.Replacements.FindIndex(r => r.Id == id);
            if (i >= 0)
            {
                b.Replacements.RemoveAt(i);
                return true;
            }
        }
        return false;
    }

    private sealed class Bucket(DateTimeOffset now)
    {
        public readonly List<RoutingNode> Nodes = new(K);
        public readonly List<RoutingNode> Replacements = new(K);
        public DateTimeOffset LastChanged = now;
    }
}
