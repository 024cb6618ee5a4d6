using System.Buffers.Binary;
using System.Net;

namespace Shoal.Dht;

/// <summary>
/// The querying half of a node: transaction ids, the queries awaiting an answer (at most
/// <see cref="DhtNodeOptions.MaxPendingQueries"/>; beyond that a new query fails at once), their soft and hard
/// timeouts, and the <see cref="RttEstimator"/> the soft timeout comes from. It matches answers to the queries they
/// answer — same transaction id and the very address the query went to, or it is unsolicited — and tells each
/// query's <see cref="IQueryObserver"/> how it ended. Single owner: every member runs inside the node's
/// <see cref="DhtGate"/>, and the datagrams it builds are queued there, sent after the gate is released.
/// </summary>
internal sealed class KrpcClient
{
    private readonly DhtGate _gate;
    private readonly DhtNodeOptions _options;
    private readonly TimeProvider _time;
    private readonly NodeId _ownId;
    private readonly Dictionary<ushort, Pending> _pending = [];
    private ushort _nextTid;
    private bool _closed;

    /// <summary>Creates the client; transaction ids start at a random point of <paramref name="random"/>.</summary>
    public KrpcClient(DhtGate gate, DhtNodeOptions options, TimeProvider time, Random random, NodeId ownId)
    {
        _gate = gate;
        _options = options;
        _time = time;
        _ownId = ownId;
        _nextTid = (ushort)random.Next(65536);
        Rtt = new RttEstimator(options.MinSoftTimeout, options.MaxSoftTimeout);
    }

    /// <summary>Round trips of the answers so far.</summary>
    public RttEstimator Rtt { get; }

    /// <summary>Queries awaiting an answer.</summary>
    public int PendingCount => _pending.Count;

    /// <summary>Queries sent since start.</summary>
    public long QueriesSent { get; private set; }

    /// <summary>Queries that timed out since start.</summary>
    public long Timeouts { get; private set; }

    /// <summary>Called (inside the gate) with the address of every query that timed out for good.</summary>
    public Action<IPEndPoint>? TimedOut { get; init; }

    /// <summary>
    /// Queues a query to <paramref name="to"/>; <paramref name="observer"/> (if any) hears how it ends. False when it
    /// cannot be sent (too many pending, or closed): nothing is called then.
    /// </summary>
    public bool Send(IPEndPoint to, in QuerySpec spec, IQueryObserver? observer)
    {
        if (_closed || _pending.Count >= _options.MaxPendingQueries) return false;
        ushort tid = _nextTid;
        while (_pending.ContainsKey(tid)) tid++;
        _nextTid = (ushort)(tid + 1);
        byte[] tidBytes = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(tidBytes, tid);
        var query = new KrpcQuery
        {
            TransactionId = tidBytes,
            Method = spec.Method,
            SenderId = _ownId,
            Target = spec.Target,
            Token = spec.Token,
            Port = spec.Port,
            ImpliedPort = spec.ImpliedPort,
            Want = spec.Want,
            ReadOnly = _options.ReadOnly,
        };
        DateTimeOffset now = _time.GetUtcNow();
        TimeSpan soft = Rtt.SoftTimeout;
        var pending = new Pending(this, tid, to, now, observer)
        {
            Slow = observer is not { WantsSlowNotice: true } || soft >= _options.QueryTimeout,
            SoftDue = now + soft,
        };
        _pending[tid] = pending;
        pending.Timer = _time.CreateTimer(static s => ((Pending)s!).Client.OnTimer((Pending)s!), pending,
            pending.Slow ? _options.QueryTimeout : soft, Timeout.InfiniteTimeSpan);
        QueriesSent++;
        _gate.Queue(query, to);
        return true;
    }

    /// <summary>
    /// The query an answer with transaction id <paramref name="transactionId"/> from <paramref name="source"/> answers,
    /// taken out of the pending table (its timer stopped); null when unsolicited or from the wrong address. The caller
    /// then calls <see cref="Succeed"/> or <see cref="Fail"/>.
    /// </summary>
    public Pending? Take(ReadOnlySpan<byte> transactionId, IPEndPoint source)
    {
        if (transactionId.Length != 2) return null;
        ushort tid = BinaryPrimitives.ReadUInt16BigEndian(transactionId);
        if (!_pending.TryGetValue(tid, out Pending? pending) || !pending.To.Equals(source)) return null; // unsolicited or spoofed
        _pending.Remove(tid);
        pending.Timer?.Dispose();
        return pending;
    }

    /// <summary>A taken query was answered: the round trip feeds the estimator, the observer gets the answer.</summary>
    public void Succeed(Pending pending, KrpcResponse response)
    {
        if (Rtt.AddSample(_time.GetUtcNow() - pending.SentAt)) RearmSoftTimeouts();
        pending.Observer?.OnResponse(pending.To, response);
    }

    /// <summary>A taken query failed (an error answer, or it turned out to be our own query).</summary>
    public static void Fail(Pending pending) => pending.Observer?.OnFailure(pending.To);

    /// <summary>Stops every timer and forgets every query (the node is shutting down); nothing is called.</summary>
    public void Close()
    {
        _closed = true;
        foreach (Pending p in _pending.Values) p.Timer?.Dispose();
        _pending.Clear();
    }

    private void OnTimer(Pending pending)
    {
        using DhtGate.Scope scope = _gate.Enter();
        if (_closed || !_pending.TryGetValue(pending.Tid, out Pending? current) || current != pending) return;
        if (!pending.Slow)
        {
            pending.Slow = true;
            TimeSpan rest = _options.QueryTimeout - (_time.GetUtcNow() - pending.SentAt);
            pending.Timer?.Change(rest > TimeSpan.Zero ? rest : TimeSpan.FromMilliseconds(1), Timeout.InfiniteTimeSpan);
            pending.Observer?.OnSlow(pending.To);
            return;
        }
        _pending.Remove(pending.Tid);
        pending.Timer?.Dispose();
        Timeouts++;
        TimedOut?.Invoke(pending.To);
        pending.Observer?.OnFailure(pending.To);
    }

    /// <summary>
    /// The first round-trip sample arrived: the queries sent before it wait for the soft timeout's upper bound, which a
    /// dead node would spend holding up its lookup (issue 21: a saved table of dead nodes); bring their soft deadline
    /// down to what the network now shows.
    /// </summary>
    private void RearmSoftTimeouts()
    {
        TimeSpan soft = Rtt.SoftTimeout;
        DateTimeOffset now = _time.GetUtcNow();
        foreach (Pending p in _pending.Values)
        {
            if (p.Slow) continue;
            DateTimeOffset due = p.SentAt + soft;
            if (due >= p.SoftDue) continue;
            p.SoftDue = due;
            TimeSpan wait = due - now;
            p.Timer?.Change(wait > TimeSpan.Zero ? wait : TimeSpan.FromMilliseconds(1), Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>One query awaiting its answer.</summary>
    internal sealed class Pending(KrpcClient client, ushort tid, IPEndPoint to, DateTimeOffset sentAt, IQueryObserver? observer)
    {
        public readonly KrpcClient Client = client;
        public readonly ushort Tid = tid;
        public readonly IPEndPoint To = to;
        public readonly DateTimeOffset SentAt = sentAt;
        public readonly IQueryObserver? Observer = observer;
        public ITimer? Timer;
        public bool Slow; // past the soft timeout, or never given one
        public DateTimeOffset SoftDue;
    }
}
