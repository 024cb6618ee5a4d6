using System.Net;

namespace Shoal.Dht;

/// <summary>
/// The iterative Kademlia lookup of BEP 5 as a pure state machine (after anacrolix/dht's traversal): it never
/// touches a socket or a clock. Its driver asks <see cref="NextQueries"/> whom to query, sends, and reports each
/// outcome with <see cref="OnResponse"/>, <see cref="OnSlow"/> or <see cref="OnFailure"/>, then asks again, until
/// <see cref="IsFinished"/>.
/// </summary>
/// <remarks>
/// Up to <see cref="Alpha"/> queries are in flight, plus the first round's: bootstrap endpoints and saved nodes (nodes
/// remembered from an earlier run, alive or not) are all asked at once, outside alpha, so that whichever of them
/// answers first drives the lookup and a saved table of dead nodes never holds the slots a live bootstrap node's
/// answers need (issue 21). A query past its soft timeout is reported "slow": it stops
/// counting against alpha and stops holding up termination, but its answer is still used if it arrives — so one slow
/// node never stalls a lookup. The lookup ends when the <see cref="K"/> closest nodes that have not failed (nor gone
/// slow) have all answered, or when the query budget is spent. get_peers lookups also gather peers and the write
/// token of every responder, for a later announce to the k closest.
/// </remarks>
public sealed class Lookup
{
    private readonly List<Candidate> _candidates = []; // known ids, closest first
    private readonly HashSet<IPEndPoint> _seenEndPoints = [];
    private readonly HashSet<NodeId> _seenIds = [];
    private readonly Dictionary<IPEndPoint, Candidate> _inFlight = [];
    private readonly List<IPEndPoint> _unknownIdSeeds = [];
    private readonly HashSet<IPEndPoint> _peerSet = [];
    private readonly List<IPEndPoint> _peers = [];
    private int _active; // in flight, not slow, not outside alpha
    private bool _firstRoundPending; // saved nodes wait for the first NextQueries

    /// <summary>Creates a lookup for <paramref name="target"/>.</summary>
    /// <param name="target">The id (or info-hash) looked up.</param>
    /// <param name="method">find_node or get_peers.</param>
    /// <param name="seeds">Known nodes to start from (typically the routing table's closest).</param>
    /// <param name="bootstrap">Endpoints whose ids are unknown (bootstrap routers); queried first.</param>
    /// <param name="alpha">Queries in flight at once.</param>
    /// <param name="maxQueries">Query budget; bounds the work of one lookup.</param>
    /// <param name="savedNodes">Nodes of unknown liveness (a saved table): asked in the first round with the bootstrap endpoints.</param>
    public Lookup(NodeId target, KrpcMethod method, IEnumerable<NodeContact> seeds, IEnumerable<IPEndPoint>? bootstrap = null, int alpha = 3, int maxQueries = 128,
        IEnumerable<NodeContact>? savedNodes = null)
    {
        ArgumentNullException.ThrowIfNull(seeds);
        if (method is not (KrpcMethod.FindNode or KrpcMethod.GetPeers)) throw new ArgumentException("a lookup is find_node or get_peers", nameof(method));
        ArgumentOutOfRangeException.ThrowIfLessThan(alpha, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxQueries, 1);
        Target = target;
        Method = method;
        Alpha = alpha;
        MaxQueries = maxQueries;
        foreach (NodeContact seed in seeds) AddCandidate(seed, hop: 1);
        if (savedNodes is not null)
        {
            foreach (NodeContact node in savedNodes) AddCandidate(node, hop: 1, firstRound: true);
        }
        if (bootstrap is not null)
        {
            foreach (IPEndPoint endPoint in bootstrap)
            {
                if (_seenEndPoints.Add(endPoint)) _unknownIdSeeds.Add(endPoint);
            }
        }
    }

    /// <summary>
    /// The address family the driver's socket can reach; nodes of the other family in answers (BEP 32 "nodes" over
    /// IPv6, "nodes6" over IPv4) are not candidates. Null accepts both.
    /// </summary>
    public System.Net.Sockets.AddressFamily? Family { get; init; }

    /// <summary>Never query this id (our own: other nodes return us in their answers).</summary>
    public void Exclude(NodeId id, IPEndPoint? endPoint = null)
    {
        _seenIds.Add(id);
        if (endPoint is not null) _seenEndPoints.Add(endPoint);
        int i = _candidates.FindIndex(c => c.Id == id);
        if (i >= 0 && _candidates[i].State == CandidateState.Fresh) _candidates.RemoveAt(i);
    }

    /// <summary>Nodes that must answer before the lookup ends (BEP 5 K).</summary>
    public const int K = RoutingTable.K;

    /// <summary>Most candidates remembered; farther ones are forgotten.</summary>
    public const int MaxCandidates = K * 16;

    /// <summary>Most peers gathered by a get_peers lookup.</summary>
    public const int MaxPeers = 1000;

    /// <summary>The id looked up.</summary>
    public NodeId Target { get; }

    /// <summary>find_node or get_peers.</summary>
    public KrpcMethod Method { get; }

    /// <summary>Queries in flight at once (not counting slow ones).</summary>
    public int Alpha { get; }

    /// <summary>Query budget.</summary>
    public int MaxQueries { get; }

    /// <summary>Queries handed out so far.</summary>
    public int QueriesSent { get; private set; }

    /// <summary>Responses received.</summary>
    public int Responses { get; private set; }

    /// <summary>Hop count (1 = a seed) of the first node that returned peers; 0 if none did.</summary>
    public int FirstPeersHop { get; private set; }

    /// <summary>Peers gathered (get_peers), in arrival order, without duplicates.</summary>
    public IReadOnlyList<IPEndPoint> Peers => _peers;

    /// <summary>True once the k closest live nodes have answered or the budget is spent and nothing is pending.</summary>
    public bool IsFinished { get; private set; }

    /// <summary>Queries in flight (slow ones included).</summary>
    public int InFlight => _inFlight.Count;

    /// <summary>
    /// Whom to query now, marking them in flight: bootstrap endpoints first, then the closest unqueried candidates
    /// within the k closest live ones, up to alpha active queries. Empty when there is nothing to do right now.
    /// </summary>
    public List<IPEndPoint> NextQueries()
    {
        var next = new List<IPEndPoint>();
        if (IsFinished) return next;
        foreach (IPEndPoint endPoint in _unknownIdSeeds)
        {
            if (QueriesSent >= MaxQueries) break;
            var c = new Candidate(default, endPoint, hop: 1, knownId: false) { State = CandidateState.InFlight, OutsideAlpha = true };
            _inFlight[endPoint] = c;
            QueriesSent++;
            next.Add(endPoint);
        }
        _unknownIdSeeds.Clear();
        if (_firstRoundPending)
        {
            _firstRoundPending = false;
            foreach (Candidate c in _candidates)
            {
                if (QueriesSent >= MaxQueries) break;
                if (!c.FirstRound || c.State != CandidateState.Fresh) continue;
                c.State = CandidateState.InFlight;
                c.OutsideAlpha = true;
                _inFlight[c.EndPoint] = c;
                QueriesSent++;
                next.Add(c.EndPoint);
            }
        }

        int live = 0;
        foreach (Candidate c in _candidates)
        {
            if (_active >= Alpha || QueriesSent >= MaxQueries || live >= K) break;
            if (c.State is CandidateState.Failed or CandidateState.Slow) continue;
            // A first-round node still being asked may be long dead: it does not hide the nodes behind it.
            if (c.State == CandidateState.InFlight && c.OutsideAlpha) continue;
            live++;
            if (c.State != CandidateState.Fresh) continue;
            c.State = CandidateState.InFlight;
            _inFlight[c.EndPoint] = c;
            _active++;
            QueriesSent++;
            next.Add(c.EndPoint);
        }
        UpdateFinished();
        return next;
    }

    /// <summary>A response arrived from <paramref name="from"/>: merges its nodes, peers and token.</summary>
    public void OnResponse(IPEndPoint from, KrpcResponse response)
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(response);
        if (!_inFlight.Remove(from, out Candidate? c)) return;
        if (c.State == CandidateState.InFlight && !c.OutsideAlpha) _active--;
        Responses++;
        if (!c.KnownId)
        {
            // A bootstrap router: now that we know its id it becomes an ordinary candidate (if not one already).
            if (_seenIds.Add(response.SenderId))
            {
                c = new Candidate(response.SenderId, from, c.Hop, knownId: true);
                Insert(c);
            }
            else
            {
                c = _candidates.Find(x => x.Id == response.SenderId) ?? c;
            }
        }
        c.State = CandidateState.Responded;
        c.Token = response.Token;
        foreach (NodeContact node in response.Nodes) AddCandidate(node, c.Hop + 1);
        foreach (NodeContact node in response.Nodes6) AddCandidate(node, c.Hop + 1);
        if (response.Values.Count > 0 && FirstPeersHop == 0) FirstPeersHop = c.Hop;
        foreach (IPEndPoint peer in response.Values)
        {
            if (_peers.Count >= MaxPeers) break;
            if (_peerSet.Add(peer)) _peers.Add(peer);
        }
        UpdateFinished();
    }

    /// <summary>The query to <paramref name="from"/> passed its soft timeout: stop waiting for it (it may still answer).</summary>
    public void OnSlow(IPEndPoint from)
    {
        ArgumentNullException.ThrowIfNull(from);
        if (!_inFlight.TryGetValue(from, out Candidate? c) || c.State != CandidateState.InFlight) return;
        c.State = CandidateState.Slow;
        if (!c.OutsideAlpha) _active--;
        UpdateFinished();
    }

    /// <summary>The query to <paramref name="from"/> timed out for good or was answered with an error.</summary>
    public void OnFailure(IPEndPoint from)
    {
        ArgumentNullException.ThrowIfNull(from);
        if (!_inFlight.Remove(from, out Candidate? c)) return;
        if (c.State == CandidateState.InFlight && !c.OutsideAlpha) _active--;
        c.State = CandidateState.Failed;
        UpdateFinished();
    }

    /// <summary>Ends the lookup now (cancellation); pending answers are ignored.</summary>
    public void Abort()
    {
        IsFinished = true;
        _inFlight.Clear();
        _active = 0;
    }

    /// <summary>
    /// The (up to) k closest nodes that answered, closest first, each with the token it gave (empty for find_node):
    /// the nodes an announce goes to.
    /// </summary>
    public List<(NodeContact Node, ReadOnlyMemory<byte> Token)> ClosestResponded()
    {
        var list = new List<(NodeContact, ReadOnlyMemory<byte>)>(K);
        foreach (Candidate c in _candidates)
        {
            if (list.Count >= K) break;
            if (c.State == CandidateState.Responded) list.Add((new NodeContact(c.Id, c.EndPoint), c.Token));
        }
        return list;
    }

    /// <summary>The largest hop count among <see cref="ClosestResponded"/> (how deep the lookup went); 0 if none.</summary>
    public int Hops
    {
        get
        {
            int hops = 0, n = 0;
            foreach (Candidate c in _candidates)
            {
                if (n >= K) break;
                if (c.State != CandidateState.Responded) continue;
                n++;
                hops = Math.Max(hops, c.Hop);
            }
            return hops;
        }
    }

    private void AddCandidate(NodeContact node, int hop, bool firstRound = false)
    {
        // A node's reply names other nodes; it must not make us query a broadcast or multicast address or port 0.
        if (RemoteEndPointRules.WhyNotRemote(node.EndPoint) is not null) return;
        if (Family is { } family && (node.EndPoint.AddressFamily != family || node.EndPoint.Address.IsIPv4MappedToIPv6)) return;
        if (!_seenIds.Add(node.Id)) return;
        if (!_seenEndPoints.Add(node.EndPoint)) return;
        Insert(new Candidate(node.Id, node.EndPoint, hop, knownId: true) { FirstRound = firstRound });
        _firstRoundPending |= firstRound;
    }

    private void Insert(Candidate c)
    {
        int lo = 0, hi = _candidates.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (Target.CompareDistance(_candidates[mid].Id, c.Id) < 0) lo = mid + 1;
            else hi = mid;
        }
        if (lo >= MaxCandidates) return; // farther than everything we keep
        _candidates.Insert(lo, c);
        if (_candidates.Count > MaxCandidates)
        {
            // Forget the farthest candidate that is not waiting for an answer.
            for (int i = _candidates.Count - 1; i >= 0; i--)
            {
                if (_candidates[i].State is CandidateState.Fresh or CandidateState.Failed)
                {
                    _candidates.RemoveAt(i);
                    break;
                }
            }
        }
    }

    private void UpdateFinished()
    {
        if (IsFinished) return;
        if (_unknownIdSeeds.Count > 0) return;
        int live = 0;
        foreach (Candidate c in _candidates)
        {
            if (live >= K) break;
            if (c.State is CandidateState.Failed or CandidateState.Slow) continue;
            live++;
            if (c.State == CandidateState.InFlight) return;
            if (c.State == CandidateState.Fresh && QueriesSent < MaxQueries) return;
        }
        // Bootstrap queries (unknown ids) are not candidates yet: wait for them unless they are slow.
        foreach (Candidate c in _inFlight.Values)
        {
            if (!c.KnownId && c.State == CandidateState.InFlight) return;
        }
        IsFinished = true;
    }

    private enum CandidateState
    {
        Fresh,
        InFlight,
        Slow,
        Responded,
        Failed,
    }

    private sealed class Candidate(NodeId id, IPEndPoint endPoint, int hop, bool knownId)
    {
        public readonly NodeId Id = id;
        public readonly IPEndPoint EndPoint = endPoint;
        public readonly int Hop = hop;
        public readonly bool KnownId = knownId;
        public CandidateState State;
        public ReadOnlyMemory<byte> Token;
        public bool FirstRound; // a saved node: asked in the first round
        public bool OutsideAlpha; // asked in the first round: does not hold one of the alpha slots
    }
}
