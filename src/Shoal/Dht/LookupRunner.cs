using System.Net;

namespace Shoal.Dht;

/// <summary>
/// Drives one <see cref="Lookup"/> to its end through one query function (after anacrolix/dht's traversal): asks the
/// lookup whom to query, queries them, feeds each outcome back, and asks again, until the lookup is finished; then, for
/// an announce, sends announce_peer to the k closest nodes that answered, with their tokens, and completes the caller's
/// task with a <see cref="DhtLookupResult"/>. It knows nothing of sockets, transaction ids or timers: the query
/// function (the node's <see cref="KrpcClient"/>) does. Runs inside the node's <see cref="DhtGate"/>, except
/// <see cref="AttachCancellation"/>.
/// </summary>
internal sealed class LookupRunner : IQueryObserver
{
    private readonly Lookup _lookup;
    private readonly QueryFunction _query;
    private readonly TimeProvider _time;
    private readonly DhtGate _gate;
    private readonly KrpcWant _want;
    private readonly TaskCompletionSource<DhtLookupResult>? _completion;
    private readonly int? _announcePort;
    private readonly bool _impliedPort;
    private readonly Action<LookupRunner> _finished;
    private DateTimeOffset _startedAt;
    private DateTimeOffset? _firstPeersAt;
    private CancellationTokenRegistration _registration;
    private CancellationToken _cancellationToken;
    private bool _done;

    /// <summary>Sends one query; false when it could not be sent (then no outcome is reported).</summary>
    public delegate bool QueryFunction(IPEndPoint to, in QuerySpec spec, IQueryObserver? observer);

    /// <summary>Creates the runner; nothing is sent before <see cref="Start"/>.</summary>
    /// <param name="lookup">The lookup to drive.</param>
    /// <param name="query">How to send a query.</param>
    /// <param name="time">The node's clock (for the result's timings).</param>
    /// <param name="gate">The node's gate, taken by cancellation.</param>
    /// <param name="want">BEP 32 "want" of the lookup's queries.</param>
    /// <param name="completion">The caller's task; null for the node's own background lookups.</param>
    /// <param name="announcePort">Announce this port to the closest nodes at the end; null for a plain lookup.</param>
    /// <param name="impliedPort">BEP 5 implied_port for the announce.</param>
    /// <param name="finished">Called (inside the gate) once when the lookup ends, completes or is cancelled.</param>
    public LookupRunner(Lookup lookup, QueryFunction query, TimeProvider time, DhtGate gate, KrpcWant want,
        TaskCompletionSource<DhtLookupResult>? completion, int? announcePort, bool impliedPort, Action<LookupRunner> finished)
    {
        _lookup = lookup;
        _query = query;
        _time = time;
        _gate = gate;
        _want = want;
        _completion = completion;
        _announcePort = announcePort;
        _impliedPort = impliedPort;
        _finished = finished;
    }

    /// <summary>A lookup the node runs for itself (bootstrap, bucket refresh), not for a caller.</summary>
    public bool IsBackground => _completion is null;

    /// <summary>The lookup driven.</summary>
    public Lookup Lookup => _lookup;

    /// <inheritdoc />
    public bool WantsSlowNotice => true;

    /// <summary>Sends the first queries (or completes at once when there is nobody to ask).</summary>
    public void Start()
    {
        _startedAt = _time.GetUtcNow();
        Pump();
    }

    /// <summary>
    /// Cancels the lookup when <paramref name="cancellationToken"/> fires. Called outside the gate, after
    /// <see cref="Start"/>: a token already cancelled then cancels at once, on this thread.
    /// </summary>
    public void AttachCancellation(CancellationToken cancellationToken)
    {
        if (!cancellationToken.CanBeCanceled) return;
        _cancellationToken = cancellationToken;
        CancellationTokenRegistration registration = cancellationToken.Register(static s => ((LookupRunner)s!).Cancel(), this);
        using DhtGate.Scope scope = _gate.Enter();
        if (_done) registration.Unregister();
        else _registration = registration;
    }

    /// <summary>Ends the lookup because its node is shutting down (inside the gate); the caller's task fails.</summary>
    public void Abort()
    {
        if (_done) return;
        _done = true;
        _lookup.Abort();
        _registration.Unregister();
        _completion?.TrySetException(new ObjectDisposedException(nameof(DhtNode)));
    }

    /// <inheritdoc />
    public void OnResponse(IPEndPoint from, KrpcResponse response)
    {
        if (_done) return;
        if (response.Values.Count > 0 && _firstPeersAt is null) _firstPeersAt = _time.GetUtcNow();
        _lookup.OnResponse(from, response);
        Pump();
    }

    /// <inheritdoc />
    public void OnSlow(IPEndPoint to)
    {
        if (_done) return;
        _lookup.OnSlow(to);
        Pump();
    }

    /// <inheritdoc />
    public void OnFailure(IPEndPoint to)
    {
        if (_done) return;
        _lookup.OnFailure(to);
        Pump();
    }

    private void Cancel()
    {
        TaskCompletionSource<DhtLookupResult>? completion;
        using (_gate.Enter())
        {
            if (_done) return;
            _done = true;
            _lookup.Abort();
            _finished(this);
            completion = _completion;
        }
        completion?.TrySetCanceled(_cancellationToken);
    }

    private void Pump()
    {
        while (!_lookup.IsFinished)
        {
            List<IPEndPoint> next = _lookup.NextQueries();
            if (next.Count == 0) break;
            bool anyFailed = false;
            var spec = new QuerySpec(_lookup.Method, _lookup.Target, Want: _want);
            foreach (IPEndPoint to in next)
            {
                if (_query(to, spec, this)) continue;
                _lookup.OnFailure(to);
                anyFailed = true;
            }
            if (!anyFailed) break; // otherwise ask again: the failed ones freed their slots
        }
        if (_lookup.IsFinished) Complete();
    }

    private void Complete()
    {
        if (_done) return;
        _done = true;
        _registration.Unregister();
        List<(NodeContact Node, ReadOnlyMemory<byte> Token)> closest = _lookup.ClosestResponded();
        int announced = 0;
        if (_announcePort is { } port)
        {
            foreach ((NodeContact node, ReadOnlyMemory<byte> token) in closest)
            {
                if (token.IsEmpty) continue;
                var spec = new QuerySpec(KrpcMethod.AnnouncePeer, _lookup.Target, token, port == 0 ? 1 : port, _impliedPort);
                if (_query(node.EndPoint, spec, null)) announced++;
            }
        }
        var nodes = new List<NodeContact>(closest.Count);
        foreach ((NodeContact node, _) in closest) nodes.Add(node);
        DateTimeOffset now = _time.GetUtcNow();
        var result = new DhtLookupResult(_lookup.Target, [.. _lookup.Peers], nodes, _lookup.QueriesSent, _lookup.Responses,
            _lookup.Hops, _lookup.FirstPeersHop, now - _startedAt, _firstPeersAt - _startedAt, announced);
        _finished(this);
        _completion?.TrySetResult(result);
    }
}
