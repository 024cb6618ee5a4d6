using System.Net;
using System.Net.Sockets;

namespace Shoal.Dht;

/// <summary>
/// The serving half of a node: decides the answer to each query (ping, find_node, get_peers with its write token,
/// announce_peer into the <see cref="PeerStore"/>), and how large it may be. Rate limits each source address
/// (<see cref="SourceRateLimiter"/>); a source we have never had an answer from gets at most
/// <see cref="DhtNodeOptions.UnverifiedReplyFactor"/> times its query's size back, anyone at most
/// <see cref="DhtNodeOptions.MaxReplyLength"/> (the <see cref="ReplyTrimmer"/> enforces it when the reply is encoded,
/// outside the node's lock). BEP 32: "want" picks the node lists; the other family's come from a dual-stack partner.
/// Single owner: runs inside the node's <see cref="DhtGate"/>.
/// </summary>
internal sealed class QueryResponder
{
    private readonly DhtNodeOptions _options;
    private readonly Random _random;
    private readonly RoutingTable _table;
    private readonly TokenManager _tokens;
    private readonly SourceRateLimiter _limiter;
    private readonly AddressFamily _family;

    /// <summary>Creates the responder of a node whose socket is of <paramref name="family"/>.</summary>
    public QueryResponder(DhtNodeOptions options, TimeProvider time, Random random, RoutingTable table, AddressFamily family)
    {
        _options = options;
        _random = random;
        _table = table;
        _family = family;
        _tokens = new TokenManager(time);
        _limiter = new SourceRateLimiter(time, options.QueriesPerSecondPerSource, options.QueryBurstPerSource);
        Store = new PeerStore(time, options.MaxStoredInfoHashes, options.MaxPeersPerInfoHash);
    }

    /// <summary>The announced peers.</summary>
    public PeerStore Store { get; }

    /// <summary>Queries received since start.</summary>
    public long QueriesReceived { get; private set; }

    /// <summary>Queries dropped by the rate limiter, or malformed.</summary>
    public long QueriesDropped { get; private set; }

    /// <summary>Counts a packet dropped before it reached <see cref="Admit"/> (malformed, oversized).</summary>
    public void CountDropped() => QueriesDropped++;

    /// <summary>
    /// Whether to serve a query from <paramref name="source"/> at all: a read-only node (BEP 43) serves nobody, and a
    /// source over its rate is dropped. Counts the query either way.
    /// </summary>
    public bool Admit(IPEndPoint source)
    {
        QueriesReceived++;
        if (_options.ReadOnly) return false;
        if (_limiter.TryAcquire(source.Address)) return true;
        QueriesDropped++;
        return false;
    }

    /// <summary>The answer to an admitted <paramref name="query"/> of <paramref name="queryLength"/> bytes from <paramref name="source"/>.</summary>
    /// <param name="query">The query.</param>
    /// <param name="source">Its source address.</param>
    /// <param name="queryLength">Its size on the wire, for the anti-amplification budget.</param>
    /// <param name="hasPartner">Whether a dual-stack partner can add the other family's nodes.</param>
    public QueryAnswer Answer(KrpcQuery query, IPEndPoint source, int queryLength, bool hasPartner)
    {
        // BEP 32: "want" picks the node lists; without it, the answer carries the list of the query's own family.
        bool ownIsV6 = _family == AddressFamily.InterNetworkV6;
        KrpcWant ownFlag = ownIsV6 ? KrpcWant.N6 : KrpcWant.N4;
        KrpcWant want = query.Want == KrpcWant.None ? ownFlag : query.Want;
        bool listsNodes = query.Method is KrpcMethod.FindNode or KrpcMethod.GetPeers;
        IReadOnlyList<NodeContact> own = listsNodes && (want & ownFlag) != 0 ? _table.Closest(query.Target, RoutingTable.K) : [];
        bool wantsOther = listsNodes && hasPartner && (want & ~ownFlag & (KrpcWant.N4 | KrpcWant.N6)) != 0;

        KrpcMessage reply;
        switch (query.Method)
        {
            case KrpcMethod.Ping:
                reply = new KrpcResponse { TransactionId = query.TransactionId, SenderId = _table.OwnId };
                break;
            case KrpcMethod.FindNode:
                reply = new KrpcResponse
                {
                    TransactionId = query.TransactionId,
                    SenderId = _table.OwnId,
                    Nodes = ownIsV6 ? [] : own,
                    Nodes6 = ownIsV6 ? own : [],
                };
                break;
            case KrpcMethod.GetPeers:
                // Announces reach a node over its own family only, so the store holds peers of the query's family:
                // 6-byte values over IPv4, 18-byte values over IPv6, never a hybrid list (BEP 32).
                reply = new KrpcResponse
                {
                    TransactionId = query.TransactionId,
                    SenderId = _table.OwnId,
                    Nodes = ownIsV6 ? [] : own,
                    Nodes6 = ownIsV6 ? own : [],
                    Values = Store.Get(query.Target, _options.MaxValuesPerReply, _random),
                    Token = _tokens.Create(source.Address),
                };
                break;
            case KrpcMethod.AnnouncePeer:
                if (!_tokens.Validate(query.Token.Span, source.Address))
                {
                    reply = new KrpcError { TransactionId = query.TransactionId, Code = 203, Message = "bad token" };
                    break;
                }
                Store.Add(query.Target, new IPEndPoint(source.Address, query.ImpliedPort ? source.Port : query.Port));
                reply = new KrpcResponse { TransactionId = query.TransactionId, SenderId = _table.OwnId };
                break;
            default:
                reply = new KrpcError { TransactionId = query.TransactionId, Code = 204, Message = "Method Unknown" };
                break;
        }

        RoutingNode? known = _table.FindByEndPoint(source);
        bool verified = known is { LastResponse: not null } && known.Id == query.SenderId;
        int budget = verified ? _options.MaxReplyLength : Math.Min(_options.MaxReplyLength, queryLength * _options.UnverifiedReplyFactor);
        return new QueryAnswer(reply, budget, wantsOther && reply is KrpcResponse);
    }

    /// <summary>
    /// <paramref name="reply"/> (from <see cref="Answer"/>, <see cref="QueryAnswer.WantsOtherFamily"/>) with the
    /// partner's nodes of the other family added.
    /// </summary>
    public KrpcResponse WithOtherFamily(KrpcResponse reply, IReadOnlyList<NodeContact> other)
    {
        bool ownIsV6 = _family == AddressFamily.InterNetworkV6;
        return new KrpcResponse
        {
            TransactionId = reply.TransactionId,
            SenderId = reply.SenderId,
            Token = reply.Token,
            Values = reply.Values,
            Nodes = ownIsV6 ? other : reply.Nodes,
            Nodes6 = ownIsV6 ? reply.Nodes6 : other,
        };
    }
}

/// <summary>What to answer a query with.</summary>
/// <param name="Reply">The response or error.</param>
/// <param name="Budget">Most bytes the encoded reply may take (anti-amplification).</param>
/// <param name="WantsOtherFamily">
/// The query asked for the other family's nodes too: ask the dual-stack partner (outside the node's lock) and send
/// <see cref="QueryResponder.WithOtherFamily"/>.
/// </param>
internal readonly record struct QueryAnswer(KrpcMessage Reply, int Budget, bool WantsOtherFamily);
