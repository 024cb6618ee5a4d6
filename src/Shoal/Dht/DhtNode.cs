using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Shoal.Metainfo;

namespace Shoal.Dht;

/// <summary>
/// A BEP 5 DHT node: serves queries (ping, find_node, get_peers, announce_peer), keeps a routing table, runs
/// iterative lookups, announces, and persists its id and table. Meant to be owned by a session (one per address
/// family): the session calls <see cref="StartAsync"/>, <see cref="GetPeersAsync"/> / <see cref="AnnounceAsync"/> per
/// torrent, <see cref="AddNode"/> for nodes learned from PORT messages, and disposes it on shutdown.
/// </summary>
/// <remarks>
/// Three sources of events reach a node: received datagrams, timers, and API calls. All of them take one short,
/// per-node lock and never await inside it; the algorithms behind it (<see cref="RoutingTable"/>,
/// <see cref="Lookup"/>, <see cref="TokenManager"/>, <see cref="PeerStore"/>) are single-owner classes. All time goes
/// through the <see cref="TimeProvider"/>, so with a virtual clock and an in-memory <see cref="IDatagramTransport"/>
/// thousands of nodes run deterministically in a unit test.
/// Anti-amplification: a source that has never answered one of our queries gets at most
/// <see cref="DhtNodeOptions.UnverifiedReplyFactor"/> times its query's size back (values, then nodes, are trimmed);
/// malformed packets get no answer at all.
/// </remarks>
public sealed class DhtNode : IAsyncDisposable, IDisposable
{
    private readonly Lock _gate = new();
    private readonly DhtNodeOptions _options;
    private readonly TimeProvider _time;
    private readonly Random _random;
    private readonly TokenManager _tokens;
    private readonly DhtStateStore _state;
    private readonly NodeIdConflicts _conflicts;
    private readonly PeerStore _store;
    private readonly SourceRateLimiter _limiter;
    private readonly Dictionary<ushort, PendingQuery> _pending = [];
    private readonly List<LookupRun> _lookups = [];
    private readonly ArrayBufferWriter<byte> _sendBuffer = new(1500);
    private readonly Dictionary<IPAddress, int> _ipVotes = [];
    private readonly List<NodeContact> _savedNodes = [];
    private readonly List<IPEndPoint> _bootstrapEndPoints = [];
    private readonly List<NodeContact> _learnedOtherFamily = [];
    private RoutingTable _table;
    private IDatagramTransport? _transport;
    private ITimer? _maintenance;
    private ushort _nextTid;
    private double _srttMs = -1, _rttvarMs;
    private DateTimeOffset _lastSave;
    private bool _started, _disposed;
    private int _tableCountSnapshot; // read without the lock by a dual-stack partner (NeedsNodes)
    private long _queriesReceived, _queriesDropped, _queriesSent, _timeouts, _internalErrors;

    /// <summary>Creates a node that will bind its own UDP socket in <see cref="StartAsync"/>.</summary>
    public DhtNode(DhtNodeOptions options, TimeProvider? timeProvider = null)
        : this(options, null, timeProvider ?? TimeProvider.System)
    {
    }

    /// <summary>Creates a node over <paramref name="transport"/> (which it then owns and disposes).</summary>
    /// <exception cref="DhtStateInUseException">
    /// <see cref="DhtNodeOptions.DataDirectory"/> is in use by another running node and the options say
    /// <see cref="DhtStateAccess.ClaimOrFail"/>.
    /// </exception>
    public DhtNode(DhtNodeOptions options, IDatagramTransport? transport, TimeProvider timeProvider)
        : this(options, transport, timeProvider, DhtStateStore.Open(options ?? throw new ArgumentNullException(nameof(options))))
    {
    }

    /// <summary>Creates a node whose state store was opened by its owner (a <see cref="DualStackDht"/>); it disposes the store.</summary>
    internal DhtNode(DhtNodeOptions options, IDatagramTransport? transport, TimeProvider timeProvider, DhtStateStore state)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(state);
        _options = options;
        _state = state;
        _time = timeProvider;
        _transport = transport;
        _random = options.RandomSeed is { } seed ? new Random(seed) : new Random();
        _tokens = new TokenManager(timeProvider);
        _store = new PeerStore(timeProvider, options.MaxStoredInfoHashes, options.MaxPeersPerInfoHash);
        _limiter = new SourceRateLimiter(timeProvider, options.QueriesPerSecondPerSource, options.QueryBurstPerSource);
        _nextTid = (ushort)_random.Next(65536);
        _conflicts = new NodeIdConflicts(options.Log);

        DhtState? saved = state.Saved;
        ExternalAddress = options.ExternalAddress ?? saved?.ExternalAddress;
        NodeId id;
        if (options.NodeId is { } fixedId) id = fixedId;
        else if (saved is not null && state.CanSave && (ExternalAddress is null || saved.Id.IsSecureFor(ExternalAddress))) id = saved.Id;
        else if (ExternalAddress is not null) id = NodeId.CreateSecure(ExternalAddress, _random);
        else id = NodeId.CreateRandom(_random);
        if (saved is not null) _savedNodes.AddRange(saved.Nodes);
        _table = new RoutingTable(id, timeProvider, options.EnforceSecureIds);
        _lastSave = timeProvider.GetUtcNow();
    }

    /// <summary>Our node id.</summary>
    public NodeId Id => _table.OwnId;

    /// <summary>Our external address, as configured, saved, or voted by responders (BEP 42 "ip"); null if unknown.</summary>
    public IPAddress? ExternalAddress { get; private set; }

    /// <summary>The bound endpoint (after <see cref="StartAsync"/>).</summary>
    public IPEndPoint? LocalEndPoint => _transport?.LocalEndPoint;

    /// <summary>The address family of the bound socket; null before <see cref="StartAsync"/>.</summary>
    public AddressFamily? Family => _transport?.LocalEndPoint.AddressFamily;

    /// <summary>
    /// BEP 32 "leaking" between the two DHTs of a dual-stack owner (<see cref="DualStackDht"/>): the closest nodes of the
    /// other family's table, for queries whose "want" asks for them. Called without this node's lock held (so it may
    /// take the other node's); null answers with our own family only.
    /// </summary>
    internal Func<NodeId, int, IReadOnlyList<NodeContact>>? OtherFamilyClosest { get; set; }

    /// <summary>
    /// Nodes of the other family seen in answers to our lookups (when <see cref="WantOtherFamily"/> asked for them, or a
    /// responder sent them anyway), handed over in small batches without this node's lock held.
    /// </summary>
    internal Action<IReadOnlyList<NodeContact>>? OtherFamilyNodesLearned { get; set; }

    /// <summary>
    /// Whether our lookups should also ask for the other family's nodes ("want" n4 and n6: BEP 32 bootstrapping of a
    /// dual-stack node). Called with this node's lock held: it must not take locks (read <see cref="NeedsNodes"/>).
    /// </summary>
    internal Func<bool>? WantOtherFamily { get; set; }

    /// <summary>The routing table is still small (a partner should leak nodes to it); lock-free, slightly stale.</summary>
    internal bool NeedsNodes => Volatile.Read(ref _tableCountSnapshot) < RoutingTable.K * 2;

    /// <summary>Packets that made the handler fail unexpectedly (a bug); the fuzz tests assert it stays 0.</summary>
    internal long InternalErrors => Interlocked.Read(ref _internalErrors);

    /// <summary>
    /// Binds the socket (unless a transport was given), resolves the bootstrap nodes (a DNS failure is logged, not
    /// thrown), and starts bootstrapping and maintenance in the background.
    /// </summary>
    /// <exception cref="SocketException">The port cannot be bound.</exception>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _transport ??= new UdpDatagramTransport(new IPEndPoint(_options.BindAddress, _options.Port));
        var endPoints = new List<IPEndPoint>();
        foreach (string text in _options.BootstrapNodes)
        {
            cancellationToken.ThrowIfCancellationRequested();
            endPoints.AddRange(await ResolveAsync(text, cancellationToken).ConfigureAwait(false));
        }
        Start(endPoints);
    }

    /// <summary>Starts with already resolved bootstrap endpoints (no DNS): used by simulations and tests.</summary>
    internal void Start(IReadOnlyList<IPEndPoint> bootstrapEndPoints)
    {
        if (_transport is null) throw new InvalidOperationException("no transport");
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_started) throw new InvalidOperationException("the node is already started");
            _started = true;
            AddressFamily family = _transport.LocalEndPoint.AddressFamily;
            foreach (IPEndPoint endPoint in bootstrapEndPoints)
            {
                if (endPoint.AddressFamily == family && !endPoint.Equals(_transport.LocalEndPoint)) _bootstrapEndPoints.Add(endPoint);
            }
            _transport.Start(OnDatagram);
            _maintenance = _time.CreateTimer(_ => Maintain(), null, _options.MaintenanceInterval, _options.MaintenanceInterval);
            StartLookup(Id, KrpcMethod.FindNode, null, announcePort: null, impliedPort: false, CancellationToken.None);
        }
    }

    /// <summary>Looks up the k nodes closest to our own id (fills the table); returns when the lookup ends.</summary>
    public Task<DhtLookupResult> BootstrapAsync(CancellationToken cancellationToken = default)
    {
        var tcs = new TaskCompletionSource<DhtLookupResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            EnsureRunning();
            StartLookup(Id, KrpcMethod.FindNode, tcs, null, false, cancellationToken);
        }
        return tcs.Task;
    }

    /// <summary>Finds peers for <paramref name="infoHash"/> (an iterative get_peers lookup).</summary>
    public Task<DhtLookupResult> GetPeersAsync(InfoHash infoHash, CancellationToken cancellationToken = default)
    {
        var tcs = new TaskCompletionSource<DhtLookupResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            EnsureRunning();
            StartLookup(NodeId.FromInfoHash(infoHash), KrpcMethod.GetPeers, tcs, null, false, cancellationToken);
        }
        return tcs.Task;
    }

    /// <summary>
    /// get_peers for <paramref name="infoHash"/>, then announce_peer to the k closest nodes that answered, with their
    /// tokens. <paramref name="impliedPort"/> asks them to use our UDP source port (BEP 5 implied_port, for NATs
    /// where the DHT and the peer port share a mapping). The result's peers are those the lookup found.
    /// </summary>
    public Task<DhtLookupResult> AnnounceAsync(InfoHash infoHash, int port, bool impliedPort = false, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(port, impliedPort ? 0 : 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        var tcs = new TaskCompletionSource<DhtLookupResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            EnsureRunning();
            StartLookup(NodeId.FromInfoHash(infoHash), KrpcMethod.GetPeers, tcs, port, impliedPort, cancellationToken);
        }
        return tcs.Task;
    }

    /// <summary>An iterative find_node for <paramref name="target"/>.</summary>
    public Task<DhtLookupResult> FindNodeAsync(NodeId target, CancellationToken cancellationToken = default)
    {
        var tcs = new TaskCompletionSource<DhtLookupResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            EnsureRunning();
            StartLookup(target, KrpcMethod.FindNode, tcs, null, false, cancellationToken);
        }
        return tcs.Task;
    }

    /// <summary>Pings <paramref name="endPoint"/>; the node's id when it answers, null when it does not.</summary>
    public Task<NodeId?> PingAsync(IPEndPoint endPoint, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        var tcs = new TaskCompletionSource<NodeId?>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            EnsureRunning();
            bool sent = SendQuery(endPoint, new QuerySpec(KrpcMethod.Ping, default, default, 0, false),
                r => tcs.TrySetResult(r.SenderId), null, () => tcs.TrySetResult(null));
            if (!sent) tcs.TrySetResult(null);
        }
        if (cancellationToken.CanBeCanceled) cancellationToken.Register(() => tcs.TrySetCanceled(cancellationToken));
        return tcs.Task;
    }

    /// <summary>
    /// A node learned elsewhere (a peer's PORT message, BEP 5): pinged, and added to the table if it answers.
    /// </summary>
    public void AddNode(IPEndPoint endPoint)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        if (endPoint.Address.IsIPv4MappedToIPv6) endPoint = new IPEndPoint(endPoint.Address.MapToIPv4(), endPoint.Port);
        lock (_gate)
        {
            if (_disposed || !_started || endPoint.Port == 0) return;
            if (endPoint.AddressFamily != _transport!.LocalEndPoint.AddressFamily) return;
            if (_table.FindByEndPoint(endPoint) is not null) return;
            SendQuery(endPoint, new QuerySpec(KrpcMethod.Ping, default, default, 0, false), null, null, null);
        }
    }

    /// <summary>A snapshot of the node's counters.</summary>
    public DhtStats GetStats()
    {
        lock (_gate)
        {
            int good = 0;
            foreach (RoutingNode n in _table.AllNodes()) if (_table.StateOf(n) == NodeState.Good) good++;
            return new DhtStats(Id, _table.Count, good, _table.BucketCount, _pending.Count, _lookups.Count,
                _store.InfoHashCount, _store.PeerCount, _queriesReceived, _queriesDropped, _queriesSent, _timeouts, ExternalAddress);
        }
    }

    /// <summary>Up to <paramref name="count"/> good nodes of our table closest to <paramref name="target"/>, closest first.</summary>
    public IReadOnlyList<NodeContact> GetClosestNodes(NodeId target, int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 0);
        lock (_gate)
        {
            return count == 0 || _disposed ? [] : _table.Closest(target, count);
        }
    }

    /// <summary>The routing table's nodes right now (a copy).</summary>
    public IReadOnlyList<NodeContact> GetNodes()
    {
        lock (_gate)
        {
            var list = new List<NodeContact>(_table.Count);
            foreach (RoutingNode n in _table.AllNodes()) list.Add(n.Contact);
            return list;
        }
    }

    /// <summary>Saves the id and table into the data directory now (no-op without one).</summary>
    public void SaveState()
    {
        DhtState state;
        lock (_gate)
        {
            if (!_state.CanSave) return;
            state = SnapshotState();
            _lastSave = _time.GetUtcNow();
        }
        _state.Save(state);
    }

    /// <summary>Stops: fails pending queries, cancels lookups, saves the state, closes the socket.</summary>
    public void Dispose()
    {
        List<LookupRun> runs;
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            _maintenance?.Dispose();
            foreach (PendingQuery p in _pending.Values) p.Timer?.Dispose();
            _pending.Clear();
            runs = [.. _lookups];
            _lookups.Clear();
        }
        foreach (LookupRun run in runs)
        {
            run.Registration.Dispose();
            run.Completion?.TrySetException(new ObjectDisposedException(nameof(DhtNode)));
        }
        if (_started && _state.CanSave)
        {
            DhtState state;
            lock (_gate) state = SnapshotState();
            _state.Save(state);
        }
        _transport?.Dispose();
        _state.Dispose(); // releases the folder for the next node only after the last save
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    // ---------------------------------------------------------------- receiving

    /// <summary>The packet handler: decodes and dispatches one datagram. Never throws.</summary>
    internal void OnDatagram(ReadOnlySpan<byte> datagram, IPEndPoint source)
    {
        try
        {
            if (source.Address.IsIPv4MappedToIPv6) source = new IPEndPoint(source.Address.MapToIPv4(), source.Port);
            if (datagram.Length > KrpcCodec.MaxPacketLength || source.Port == 0)
            {
                Interlocked.Increment(ref _queriesDropped);
                return;
            }
            KrpcMessage message = KrpcCodec.Decode(datagram.ToArray());
            DeferredReply? deferred = null;
            List<NodeContact>? learned = null;
            lock (_gate)
            {
                if (_disposed) return;
                switch (message)
                {
                    case KrpcQuery query when query.SenderId == Id && IsOurOwnQuery(query, source):
                        break;
                    case KrpcQuery query:
                        if (query.SenderId == Id) _conflicts.Report(source, "query");
                        deferred = HandleQuery(query, source, datagram.Length);
                        break;
                    case KrpcResponse response:
                        HandleReply(response, null, source);
                        break;
                    case KrpcError error:
                        HandleReply(null, error, source);
                        break;
                }
                Volatile.Write(ref _tableCountSnapshot, _table.Count);
                if (_learnedOtherFamily.Count > 0)
                {
                    learned = [.. _learnedOtherFamily];
                    _learnedOtherFamily.Clear();
                }
            }
            // The partner node is called outside our lock: two nodes calling each other under their own locks
            // would deadlock.
            if (deferred is { } d) CompleteDeferredReply(d);
            if (learned is not null) OtherFamilyNodesLearned?.Invoke(learned);
        }
        catch (ShoalFormatException)
        {
            // Malformed: no answer at all (an error reply would let spoofed garbage reflect off us).
            Interlocked.Increment(ref _queriesDropped);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Interlocked.Increment(ref _internalErrors);
            _options.Log?.Invoke($"DHT packet handler error: {ex.GetType().Name}: {ex.Message}");
        }
    }

    /// <summary>Handles a query; returns a reply still missing the other family's nodes, to finish outside the lock.</summary>
    private DeferredReply? HandleQuery(KrpcQuery query, IPEndPoint source, int queryLength)
    {
        _queriesReceived++;
        if (_options.ReadOnly) return null; // BEP 43: read-only nodes do not answer
        if (!_limiter.TryAcquire(source.Address))
        {
            _queriesDropped++;
            return null;
        }
        if (!query.ReadOnly && query.SenderId != Id)
        {
            _table.Observe(new NodeContact(query.SenderId, source), responded: false, out RoutingNode? ping);
            if (ping is not null) PingForEviction(ping);
        }

        // BEP 32: "want" picks the node lists; without it, the answer carries the list of the query's own family.
        bool ownIsV6 = _transport!.LocalEndPoint.AddressFamily == AddressFamily.InterNetworkV6;
        KrpcWant ownFlag = ownIsV6 ? KrpcWant.N6 : KrpcWant.N4;
        KrpcWant want = query.Want == KrpcWant.None ? ownFlag : query.Want;
        IReadOnlyList<NodeContact> own = [];
        if ((want & ownFlag) != 0 && query.Method is KrpcMethod.FindNode or KrpcMethod.GetPeers) own = _table.Closest(query.Target, RoutingTable.K);
        bool wantsOther = (want & ~ownFlag & (KrpcWant.N4 | KrpcWant.N6)) != 0 && OtherFamilyClosest is not null;

        KrpcMessage reply;
        switch (query.Method)
        {
            case KrpcMethod.Ping:
                reply = new KrpcResponse { TransactionId = query.TransactionId, SenderId = Id };
                break;
            case KrpcMethod.FindNode:
                reply = new KrpcResponse
                {
                    TransactionId = query.TransactionId,
                    SenderId = Id,
                    Nodes = ownIsV6 ? [] : own,
                    Nodes6 = ownIsV6 ? own : [],
                };
                break;
            case KrpcMethod.GetPeers:
            {
                // Announces reach a node over its own family only, so the store holds peers of the query's family:
                // 6-byte values over IPv4, 18-byte values over IPv6, never a hybrid list (BEP 32).
                List<IPEndPoint> values = _store.Get(query.Target, _options.MaxValuesPerReply, _random);
                reply = new KrpcResponse
                {
                    TransactionId = query.TransactionId,
                    SenderId = Id,
                    Nodes = ownIsV6 ? [] : own,
                    Nodes6 = ownIsV6 ? own : [],
                    Values = values,
                    Token = _tokens.Create(source.Address),
                };
                break;
            }
            case KrpcMethod.AnnouncePeer:
                if (!_tokens.Validate(query.Token.Span, source.Address))
                {
                    reply = new KrpcError { TransactionId = query.TransactionId, Code = 203, Message = "bad token" };
                    break;
                }
                _store.Add(query.Target, new IPEndPoint(source.Address, query.ImpliedPort ? source.Port : query.Port));
                reply = new KrpcResponse { TransactionId = query.TransactionId, SenderId = Id };
                break;
            default:
                reply = new KrpcError { TransactionId = query.TransactionId, Code = 204, Message = "Method Unknown" };
                break;
        }

        RoutingNode? known = _table.FindByEndPoint(source);
        bool verified = known is { LastResponse: not null } && known.Id == query.SenderId;
        int budget = verified ? _options.MaxReplyLength : Math.Min(_options.MaxReplyLength, queryLength * _options.UnverifiedReplyFactor);
        if (wantsOther && reply is KrpcResponse response && query.Method is KrpcMethod.FindNode or KrpcMethod.GetPeers)
        {
            return new DeferredReply(response, query.Target, source, budget);
        }
        SendReply(reply, source, budget);
        return null;
    }

    /// <summary>Adds the other family's nodes (from the partner node, outside our lock) and sends the reply.</summary>
    private void CompleteDeferredReply(DeferredReply deferred)
    {
        IReadOnlyList<NodeContact> other = [];
        try
        {
            other = OtherFamilyClosest?.Invoke(deferred.Target, RoutingTable.K) ?? [];
        }
        catch (ObjectDisposedException)
        {
            // The partner is shutting down: answer with our own family only.
        }
        KrpcResponse r = deferred.Reply;
        bool ownIsV6;
        lock (_gate)
        {
            if (_disposed) return;
            ownIsV6 = _transport!.LocalEndPoint.AddressFamily == AddressFamily.InterNetworkV6;
            var full = new KrpcResponse
            {
                TransactionId = r.TransactionId,
                SenderId = r.SenderId,
                Token = r.Token,
                Values = r.Values,
                Nodes = ownIsV6 ? other : r.Nodes,
                Nodes6 = ownIsV6 ? r.Nodes6 : other,
            };
            SendReply(full, deferred.To, deferred.Budget);
        }
    }

    private void SendReply(KrpcMessage reply, IPEndPoint destination, int budget)
    {
        for (int attempt = 0; attempt < 8; attempt++)
        {
            _sendBuffer.ResetWrittenCount();
            KrpcCodec.Encode(reply, _sendBuffer, destination);
            int excess = _sendBuffer.WrittenCount - budget;
            if (excess <= 0)
            {
                _transport!.Send(_sendBuffer.WrittenSpan, destination);
                return;
            }
            if (reply is not KrpcResponse r) return;
            // Trim values first ("6:" + 6 or "18:" + 18 bytes each), then the other family's nodes, then our own
            // family's: never answer bigger than allowed.
            bool ownIsV6 = _transport!.LocalEndPoint.AddressFamily == AddressFamily.InterNetworkV6;
            if (r.Values.Count > 0)
            {
                int per = CompactAddress.PeerLength(r.Values[0]) + (ownIsV6 ? 3 : 2);
                reply = Copy(r, Fewer(r.Values, excess, per), r.Nodes, r.Nodes6);
            }
            else if ((ownIsV6 ? r.Nodes : r.Nodes6).Count > 0)
            {
                reply = ownIsV6
                    ? Copy(r, [], Fewer(r.Nodes, excess, CompactAddress.NodeV4Length), r.Nodes6)
                    : Copy(r, [], r.Nodes, Fewer(r.Nodes6, excess, CompactAddress.NodeV6Length));
            }
            else if ((ownIsV6 ? r.Nodes6 : r.Nodes).Count > 0)
            {
                reply = ownIsV6
                    ? Copy(r, [], [], Fewer(r.Nodes6, excess, CompactAddress.NodeV6Length))
                    : Copy(r, [], Fewer(r.Nodes, excess, CompactAddress.NodeV4Length), []);
            }
            else
            {
                return; // even a bare answer is too large for this source: stay silent
            }
        }

        static List<T> Fewer<T>(IReadOnlyList<T> list, int excess, int per)
        {
            int keep = list.Count - Math.Min(list.Count, (excess / per) + 1);
            var fewer = new List<T>(keep);
            for (int i = 0; i < keep; i++) fewer.Add(list[i]);
            return fewer;
        }

        static KrpcResponse Copy(KrpcResponse r, IReadOnlyList<IPEndPoint> values, IReadOnlyList<NodeContact> nodes, IReadOnlyList<NodeContact> nodes6) => new()
        {
            TransactionId = r.TransactionId,
            SenderId = r.SenderId,
            Token = r.Token,
            Values = values,
            Nodes = nodes,
            Nodes6 = nodes6,
        };
    }

    private void HandleReply(KrpcResponse? response, KrpcError? error, IPEndPoint source)
    {
        KrpcMessage message = (KrpcMessage?)response ?? error!;
        if (message.TransactionId.Length != 2) return;
        ushort tid = BinaryPrimitives.ReadUInt16BigEndian(message.TransactionId.Span);
        if (!_pending.TryGetValue(tid, out PendingQuery? pending) || !pending.To.Equals(source)) return; // unsolicited or spoofed
        _pending.Remove(tid);
        pending.Timer?.Dispose();
        if (response is null)
        {
            pending.OnFailure?.Invoke();
            return;
        }
        if (response.SenderId == Id)
        {
            // We never answer our own queries (IsOurOwnQuery), so this is another node with our id: a conflict to
            // report, and a real answer to use (the table never holds our own id, so it is not added there).
            _conflicts.Report(source, "reply");
        }
        bool firstSample = _srttMs < 0;
        UpdateRtt((_time.GetUtcNow() - pending.SentAt).TotalMilliseconds);
        if (firstSample) RearmSoftTimeouts();
        if (response.RequesterAddress is { } seenAs) Vote(seenAs.Address);
        _table.Observe(new NodeContact(response.SenderId, source), responded: true, out RoutingNode? ping);
        if (ping is not null) PingForEviction(ping);
        pending.OnResponse?.Invoke(response);
    }

    /// <summary>
    /// Whether <paramref name="query"/>, carrying our id, is one of our own queries come back to us (we sent a query to
    /// one of our own addresses: a bootstrap list naming this host, a PORT message from ourselves). Then the query we
    /// are waiting on fails now, and the address is remembered so lookups skip it; nobody else could know the
    /// transaction id we gave that very endpoint.
    /// </summary>
    private bool IsOurOwnQuery(KrpcQuery query, IPEndPoint source)
    {
        if (query.TransactionId.Length != 2) return false;
        ushort tid = BinaryPrimitives.ReadUInt16BigEndian(query.TransactionId.Span);
        if (!_pending.TryGetValue(tid, out PendingQuery? pending) || !pending.To.Equals(source)) return false;
        _conflicts.AddSelf(source);
        _pending.Remove(tid);
        pending.Timer?.Dispose();
        pending.OnFailure?.Invoke();
        return true;
    }

    /// <summary>
    /// The first round-trip sample arrived: queries sent before it wait for the upper bound of the soft timeout, which
    /// a dead node would spend holding up its lookup; bring their soft deadline down to what the network now shows.
    /// </summary>
    private void RearmSoftTimeouts()
    {
        TimeSpan soft = SoftTimeout();
        DateTimeOffset now = _time.GetUtcNow();
        foreach (PendingQuery p in _pending.Values)
        {
            if (p.Slow || p.OnSlow is null) continue;
            DateTimeOffset due = p.SentAt + soft;
            if (due >= p.SoftDue) continue;
            p.SoftDue = due;
            TimeSpan wait = due - now;
            p.Timer?.Change(wait > TimeSpan.Zero ? wait : TimeSpan.FromMilliseconds(1), Timeout.InfiniteTimeSpan);
        }
    }

    private void Vote(IPAddress address)
    {
        if (_ipVotes.Count >= 32 && !_ipVotes.ContainsKey(address)) _ipVotes.Clear();
        int votes = _ipVotes.GetValueOrDefault(address) + 1;
        _ipVotes[address] = votes;
        if (votes >= 5 && !address.Equals(ExternalAddress)) ExternalAddress = address;
    }

    private void UpdateRtt(double sampleMs)
    {
        // RFC 6298 smoothing, so the soft timeout follows the network rather than a constant.
        if (_srttMs < 0)
        {
            _srttMs = sampleMs;
            _rttvarMs = sampleMs / 2;
            return;
        }
        _rttvarMs = (0.75 * _rttvarMs) + (0.25 * Math.Abs(_srttMs - sampleMs));
        _srttMs = (0.875 * _srttMs) + (0.125 * sampleMs);
    }

    private TimeSpan SoftTimeout()
    {
        if (_srttMs < 0) return _options.MaxSoftTimeout;
        var t = TimeSpan.FromMilliseconds(_srttMs + (4 * _rttvarMs));
        return t < _options.MinSoftTimeout ? _options.MinSoftTimeout : t > _options.MaxSoftTimeout ? _options.MaxSoftTimeout : t;
    }

    // ---------------------------------------------------------------- sending queries

    private bool SendQuery(IPEndPoint to, QuerySpec spec, Action<KrpcResponse>? onResponse, Action? onSlow, Action? onFailure)
    {
        if (_disposed || _pending.Count >= _options.MaxPendingQueries) return false;
        ushort tid = _nextTid;
        while (_pending.ContainsKey(tid)) tid++;
        _nextTid = (ushort)(tid + 1);
        byte[] tidBytes = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(tidBytes, tid);
        var query = new KrpcQuery
        {
            TransactionId = tidBytes,
            Method = spec.Method,
            SenderId = Id,
            Target = spec.Target,
            Token = spec.Token,
            Port = spec.Port,
            ImpliedPort = spec.ImpliedPort,
            Want = spec.Want,
            ReadOnly = _options.ReadOnly,
        };
        var pending = new PendingQuery(tid, to, _time.GetUtcNow(), onResponse, onSlow, onFailure);
        TimeSpan soft = SoftTimeout();
        bool useSoft = onSlow is not null && soft < _options.QueryTimeout;
        pending.Slow = !useSoft;
        pending.SoftDue = pending.SentAt + soft;
        _pending[tid] = pending;
        pending.Timer = _time.CreateTimer(_ => OnQueryTimer(pending), null, useSoft ? soft : _options.QueryTimeout, Timeout.InfiniteTimeSpan);
        _sendBuffer.ResetWrittenCount();
        KrpcCodec.Encode(query, _sendBuffer);
        _queriesSent++;
        _transport!.Send(_sendBuffer.WrittenSpan, to);
        return true;
    }

    private void OnQueryTimer(PendingQuery pending)
    {
        lock (_gate)
        {
            if (_disposed || !_pending.TryGetValue(pending.Tid, out PendingQuery? current) || current != pending) return;
            if (!pending.Slow)
            {
                pending.Slow = true;
                TimeSpan rest = _options.QueryTimeout - (_time.GetUtcNow() - pending.SentAt);
                pending.Timer?.Change(rest > TimeSpan.Zero ? rest : TimeSpan.FromMilliseconds(1), Timeout.InfiniteTimeSpan);
                pending.OnSlow?.Invoke();
                return;
            }
            _pending.Remove(pending.Tid);
            pending.Timer?.Dispose();
            _timeouts++;
            if (_table.FindByEndPoint(pending.To) is { } node) _table.OnFailure(node.Id);
            if (_savedNodes.Count > 0) _savedNodes.RemoveAll(n => n.EndPoint.Equals(pending.To)); // dead since the last run
            pending.OnFailure?.Invoke();
        }
    }

    private void PingForEviction(RoutingNode node)
        => SendQuery(node.EndPoint, new QuerySpec(KrpcMethod.Ping, default, default, 0, false), null, null, null);

    // ---------------------------------------------------------------- lookups

    private void StartLookup(NodeId target, KrpcMethod method, TaskCompletionSource<DhtLookupResult>? completion, int? announcePort, bool impliedPort, CancellationToken cancellationToken)
    {
        List<NodeContact> seeds = _table.Closest(target, RoutingTable.K * 2);
        IEnumerable<IPEndPoint>? bootstrap = null;
        List<NodeContact>? saved = null;
        if (_table.Count < RoutingTable.K)
        {
            // Too few nodes of our own: lean on the saved table and the bootstrap routers, all asked in the first
            // round (issue 21: a saved table of dead nodes must not hold up a live bootstrap node, nor the reverse).
            saved = [.. _savedNodes];
            saved.Sort((x, y) => target.CompareDistance(x.Id, y.Id));
            int room = Math.Max(0, (RoutingTable.K * 4) - seeds.Count);
            if (saved.Count > room) saved.RemoveRange(room, saved.Count - room);
            bootstrap = _bootstrapEndPoints;
        }
        var lookup = new Lookup(target, method, seeds, bootstrap, _options.Alpha, _options.MaxQueriesPerLookup, saved)
        {
            Family = _transport?.LocalEndPoint.AddressFamily,
        };
        lookup.Exclude(Id, _transport?.LocalEndPoint);
        foreach (IPEndPoint self in _conflicts.SelfEndPoints) lookup.Exclude(Id, self);
        var run = new LookupRun(lookup, completion, _time.GetUtcNow(), announcePort, impliedPort);
        _lookups.Add(run);
        if (cancellationToken.CanBeCanceled)
        {
            run.Registration = cancellationToken.Register(() =>
            {
                lock (_gate)
                {
                    run.Lookup.Abort();
                    _lookups.Remove(run);
                }
                completion?.TrySetCanceled(cancellationToken);
            });
        }
        Pump(run);
    }

    private void Pump(LookupRun run)
    {
        Lookup lookup = run.Lookup;
        while (!lookup.IsFinished)
        {
            List<IPEndPoint> next = lookup.NextQueries();
            if (next.Count == 0) break;
            bool anyFailed = false;
            KrpcWant want = LookupWant();
            foreach (IPEndPoint to in next)
            {
                var spec = new QuerySpec(lookup.Method, lookup.Target, default, 0, false, want);
                bool sent = SendQuery(to, spec,
                    r =>
                    {
                        if (r.Values.Count > 0 && run.FirstPeersAt is null) run.FirstPeersAt = _time.GetUtcNow();
                        CollectOtherFamily(r);
                        lookup.OnResponse(to, r);
                        Pump(run);
                    },
                    () =>
                    {
                        lookup.OnSlow(to);
                        Pump(run);
                    },
                    () =>
                    {
                        lookup.OnFailure(to);
                        Pump(run);
                    });
                if (!sent)
                {
                    lookup.OnFailure(to);
                    anyFailed = true;
                }
            }
            if (!anyFailed) break;
        }
        if (lookup.IsFinished) Complete(run);
    }

    /// <summary>
    /// BEP 32 "want" of our lookups: an IPv6 node asks for "n6" explicitly; an IPv4 node sends none (plain BEP 5
    /// nodes understand that best); a dual-stack owner whose other table is still small also asks for the other family.
    /// </summary>
    private KrpcWant LookupWant()
    {
        bool v6 = _transport?.LocalEndPoint.AddressFamily == AddressFamily.InterNetworkV6;
        bool other = WantOtherFamily?.Invoke() == true;
        if (other) return KrpcWant.N4 | KrpcWant.N6;
        return v6 ? KrpcWant.N6 : KrpcWant.None;
    }

    /// <summary>Keeps (a bounded number of) the other family's nodes from an answer for the dual-stack partner.</summary>
    private void CollectOtherFamily(KrpcResponse r)
    {
        if (OtherFamilyNodesLearned is null) return;
        bool v6 = _transport?.LocalEndPoint.AddressFamily == AddressFamily.InterNetworkV6;
        foreach (NodeContact node in v6 ? r.Nodes : r.Nodes6)
        {
            if (_learnedOtherFamily.Count >= RoutingTable.K * 2) return;
            _learnedOtherFamily.Add(node);
        }
    }

    private void Complete(LookupRun run)
    {
        if (!_lookups.Remove(run)) return;
        run.Registration.Dispose();
        Lookup lookup = run.Lookup;
        List<(NodeContact Node, ReadOnlyMemory<byte> Token)> closest = lookup.ClosestResponded();
        int announced = 0;
        if (run.AnnouncePort is { } port)
        {
            foreach ((NodeContact node, ReadOnlyMemory<byte> token) in closest)
            {
                if (token.IsEmpty) continue;
                var spec = new QuerySpec(KrpcMethod.AnnouncePeer, lookup.Target, token, port == 0 ? 1 : port, run.ImpliedPort);
                if (SendQuery(node.EndPoint, spec, null, null, null)) announced++;
            }
        }
        var nodes = new List<NodeContact>(closest.Count);
        foreach ((NodeContact node, _) in closest) nodes.Add(node);
        DateTimeOffset now = _time.GetUtcNow();
        var result = new DhtLookupResult(lookup.Target, [.. lookup.Peers], nodes, lookup.QueriesSent, lookup.Responses,
            lookup.Hops, lookup.FirstPeersHop, now - run.StartedAt, run.FirstPeersAt - run.StartedAt, announced);
        run.Completion?.TrySetResult(result);
    }

    // ---------------------------------------------------------------- maintenance

    private void Maintain()
    {
        bool save;
        lock (_gate)
        {
            if (_disposed) return;
            int background = 0;
            foreach (LookupRun r in _lookups) if (r.Completion is null) background++;
            foreach (NodeId target in _table.TakeRefreshTargets(_random))
            {
                if (background >= 4) break; // the rest come back at the next refresh
                StartLookup(target, KrpcMethod.FindNode, null, null, false, CancellationToken.None);
                background++;
            }
            foreach (RoutingNode node in _table.TakeNodesToPing(8)) PingForEviction(node);
            _store.ExpireAll();
            if (_table.Count == 0 && background == 0) StartLookup(Id, KrpcMethod.FindNode, null, null, false, CancellationToken.None);
            save = _state.CanSave && _time.GetUtcNow() - _lastSave >= _options.SaveInterval;
            Volatile.Write(ref _tableCountSnapshot, _table.Count);
        }
        if (save) SaveState();
    }

    private DhtState SnapshotState()
    {
        var nodes = new List<NodeContact>(_table.Count);
        foreach (RoutingNode n in _table.AllNodes()) nodes.Add(n.Contact);
        if (nodes.Count == 0) nodes.AddRange(_savedNodes); // a run that never got online keeps the old table
        return new DhtState(Id, ExternalAddress, nodes);
    }

    private void EnsureRunning()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_started) throw new InvalidOperationException("start the DHT node first");
    }

    private async Task<List<IPEndPoint>> ResolveAsync(string text, CancellationToken cancellationToken)
    {
        if (!TryParseHostPort(text, out string host, out int port))
        {
            _options.Log?.Invoke($"ignoring bootstrap node '{text}': expected HOST:PORT");
            return [];
        }
        if (IPAddress.TryParse(host, out IPAddress? literal)) return [new IPEndPoint(literal, port)];
        try
        {
            IPAddress[] addresses = await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
            var list = new List<IPEndPoint>();
            foreach (IPAddress a in addresses) list.Add(new IPEndPoint(a, port));
            return list;
        }
        catch (Exception ex) when (ex is SocketException or ArgumentException)
        {
            _options.Log?.Invoke($"cannot resolve bootstrap node {host}: {ex.Message}");
            return [];
        }
    }

    /// <summary>Splits "host:port" or "[v6]:port".</summary>
    internal static bool TryParseHostPort(string text, out string host, out int port)
    {
        host = "";
        port = 0;
        if (string.IsNullOrWhiteSpace(text)) return false;
        int colon = text.LastIndexOf(':');
        if (colon <= 0) return false;
        host = text[..colon];
        if (host.StartsWith('[') && host.EndsWith(']')) host = host[1..^1];
        return int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out port) && port is > 0 and <= 65535 && host.Length > 0;
    }

    private readonly record struct QuerySpec(KrpcMethod Method, NodeId Target, ReadOnlyMemory<byte> Token, int Port, bool ImpliedPort, KrpcWant Want = KrpcWant.None);

    private readonly record struct DeferredReply(KrpcResponse Reply, NodeId Target, IPEndPoint To, int Budget);

    private sealed class PendingQuery(ushort tid, IPEndPoint to, DateTimeOffset sentAt, Action<KrpcResponse>? onResponse, Action? onSlow, Action? onFailure)
    {
        public readonly ushort Tid = tid;
        public readonly IPEndPoint To = to;
        public readonly DateTimeOffset SentAt = sentAt;
        public readonly Action<KrpcResponse>? OnResponse = onResponse;
        public readonly Action? OnSlow = onSlow;
        public readonly Action? OnFailure = onFailure;
        public ITimer? Timer;
        public bool Slow;
        public DateTimeOffset SoftDue;
    }

    private sealed class LookupRun(Lookup lookup, TaskCompletionSource<DhtLookupResult>? completion, DateTimeOffset startedAt, int? announcePort, bool impliedPort)
    {
        public readonly Lookup Lookup = lookup;
        public readonly TaskCompletionSource<DhtLookupResult>? Completion = completion;
        public readonly DateTimeOffset StartedAt = startedAt;
        public readonly int? AnnouncePort = announcePort;
        public readonly bool ImpliedPort = impliedPort;
        public DateTimeOffset? FirstPeersAt;
        public CancellationTokenRegistration Registration;
    }
}
