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
/// The node wires small single-owner parts together and dispatches to them: the <see cref="KrpcClient"/> (transactions,
/// timeouts, round-trip times), the <see cref="QueryResponder"/> (answers, rate limits, anti-amplification budgets),
/// <see cref="LookupRunner"/>s driving <see cref="Lookup"/>s, the <see cref="RoutingTable"/>, the
/// <see cref="ExternalAddressVoter"/> (BEP 42), <see cref="NodeIdConflicts"/>, the <see cref="DhtStateStore"/> and the
/// <see cref="BootstrapResolver"/>. Three sources of events reach it — received datagrams, timers, API calls — and each
/// runs inside the node's <see cref="DhtGate"/>: one short lock, never held across an await, an encode or a send (the
/// datagrams an event produces are encoded and sent after the gate is released). All time goes through the
/// <see cref="TimeProvider"/> and every random choice through the seeded <see cref="Random"/> of the options, so with a
/// virtual clock and an in-memory <see cref="IDatagramTransport"/> thousands of nodes run deterministically in a test.
/// </remarks>
public sealed class DhtNode : IAsyncDisposable, IDisposable
{
    private readonly DhtGate _gate = new();
    private readonly DhtNodeOptions _options;
    private readonly TimeProvider _time;
    private readonly Random _random;
    private readonly DhtStateStore _state;
    private readonly NodeIdConflicts _conflicts;
    private readonly ExternalAddressVoter _voter;
    private readonly RoutingTable _table;
    private readonly KrpcClient _client;
    private readonly QueryResponder _responder;
    private readonly AddressFamily _family;
    private readonly List<LookupRunner> _lookups = [];
    private readonly Queue<LookupRequest> _waiting = [];
    private readonly List<NodeContact> _savedNodes = [];
    private readonly List<IPEndPoint> _bootstrapEndPoints = [];
    private readonly List<NodeContact> _learnedOtherFamily = [];
    private IDatagramTransport? _transport;
    private ITimer? _maintenance;
    private DateTimeOffset _lastSave;
    private bool _started, _disposed;
    private int _tableCountSnapshot; // read without the gate by a dual-stack partner (NeedsNodes)
    private long _internalErrors;

    /// <summary>Creates a node that will bind its own UDP socket in <see cref="StartAsync"/>.</summary>
    /// <exception cref="DhtStateInUseException">See <see cref="DhtNode(DhtNodeOptions, IDatagramTransport?, TimeProvider)"/>.</exception>
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
        : this(options, transport, timeProvider ?? throw new ArgumentNullException(nameof(timeProvider)),
            DhtStateStore.Open(options ?? throw new ArgumentNullException(nameof(options))))
    {
    }

    /// <summary>Creates a node whose state store was opened by its owner (a <see cref="DualStackDht"/>); it disposes the store.</summary>
    internal DhtNode(DhtNodeOptions options, IDatagramTransport? transport, TimeProvider timeProvider, DhtStateStore state)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(state);
        _options = options;
        _time = timeProvider;
        _transport = transport;
        _state = state;
        _family = transport?.LocalEndPoint.AddressFamily ?? options.BindAddress.AddressFamily;
        _random = options.RandomSeed is { } seed ? new Random(seed) : new Random();
        _conflicts = new NodeIdConflicts(options.Log);
        _voter = new ExternalAddressVoter(timeProvider);

        DhtState? saved = state.Saved;
        ExternalAddress = options.ExternalAddress ?? saved?.ExternalAddress;
        NodeId id;
        if (options.NodeId is { } fixedId) id = fixedId;
        else if (saved is not null && state.CanSave && (ExternalAddress is null || saved.Id.IsSecureFor(ExternalAddress))) id = saved.Id;
        else if (ExternalAddress is not null) id = NodeId.CreateSecure(ExternalAddress, _random);
        else id = NodeId.CreateRandom(_random);
        if (saved is not null) _savedNodes.AddRange(saved.Nodes);
        _table = new RoutingTable(id, timeProvider, options.EnforceSecureIds);
        _client = new KrpcClient(_gate, options, timeProvider, _random, id) { TimedOut = OnQueryTimedOut };
        _responder = new QueryResponder(options, timeProvider, _random, _table, _family);
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
    /// other family's table, for queries whose "want" asks for them. Called without this node's gate held (so it may
    /// take the other node's); null answers with our own family only.
    /// </summary>
    internal Func<NodeId, int, IReadOnlyList<NodeContact>>? OtherFamilyClosest { get; set; }

    /// <summary>
    /// Nodes of the other family seen in answers to our queries (when <see cref="WantOtherFamily"/> asked for them, or a
    /// responder sent them anyway), handed over in small batches without this node's gate held.
    /// </summary>
    internal Action<IReadOnlyList<NodeContact>>? OtherFamilyNodesLearned { get; set; }

    /// <summary>
    /// Whether our lookups should also ask for the other family's nodes ("want" n4 and n6: BEP 32 bootstrapping of a
    /// dual-stack node). Called with this node's gate held: it must not take locks (read <see cref="NeedsNodes"/>).
    /// </summary>
    internal Func<bool>? WantOtherFamily { get; set; }

    /// <summary>The routing table is still small (a partner should leak nodes to it); lock-free, slightly stale.</summary>
    internal bool NeedsNodes => Volatile.Read(ref _tableCountSnapshot) < RoutingTable.K * 2;

    /// <summary>Whether the calling thread is inside this node's gate (tests: nothing may be sent from inside it).</summary>
    internal bool IsGateHeldByCurrentThread => _gate.IsHeld;

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
        List<IPEndPoint> endPoints = await BootstrapResolver.ResolveAsync(_options.BootstrapNodes, _transport.LocalEndPoint.AddressFamily,
            _options.Log, cancellationToken).ConfigureAwait(false);
        Start(endPoints);
    }

    /// <summary>Starts with already resolved bootstrap endpoints (no DNS): used by simulations and tests.</summary>
    internal void Start(IReadOnlyList<IPEndPoint> bootstrapEndPoints)
    {
        if (_transport is null) throw new InvalidOperationException("no transport");
        using (_gate.Enter())
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_started) throw new InvalidOperationException("the node is already started");
            _started = true;
            _gate.Transport = _transport;
            AddressFamily family = _transport.LocalEndPoint.AddressFamily;
            foreach (IPEndPoint endPoint in bootstrapEndPoints)
            {
                if (_bootstrapEndPoints.Count >= BootstrapResolver.MaxEndPoints) break;
                if (endPoint.AddressFamily == family && !endPoint.Equals(_transport.LocalEndPoint)) _bootstrapEndPoints.Add(endPoint);
            }
            _transport.Start(OnDatagram);
            _maintenance = _time.CreateTimer(static s => ((DhtNode)s!).Maintain(), this, _options.MaintenanceInterval, _options.MaintenanceInterval);
            StartOrQueue(new LookupRequest(Id, KrpcMethod.FindNode, null, null, false, CancellationToken.None));
        }
    }

    /// <summary>Looks up the k nodes closest to our own id (fills the table); returns when the lookup ends.</summary>
    public Task<DhtLookupResult> BootstrapAsync(CancellationToken cancellationToken = default)
        => RunLookup(Id, KrpcMethod.FindNode, null, false, cancellationToken);

    /// <summary>Finds peers for <paramref name="infoHash"/> (an iterative get_peers lookup).</summary>
    public Task<DhtLookupResult> GetPeersAsync(InfoHash infoHash, CancellationToken cancellationToken = default)
        => RunLookup(NodeId.FromInfoHash(infoHash), KrpcMethod.GetPeers, null, false, cancellationToken);

    /// <summary>
    /// get_peers for <paramref name="infoHash"/>, then announce_peer to the k closest nodes that answered, with their
    /// tokens. <paramref name="impliedPort"/> asks them to use our UDP source port (BEP 5 implied_port, for NATs
    /// where the DHT and the peer port share a mapping). The result's peers are those the lookup found.
    /// </summary>
    public Task<DhtLookupResult> AnnounceAsync(InfoHash infoHash, int port, bool impliedPort = false, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(port, impliedPort ? 0 : 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        return RunLookup(NodeId.FromInfoHash(infoHash), KrpcMethod.GetPeers, port, impliedPort, cancellationToken);
    }

    /// <summary>An iterative find_node for <paramref name="target"/>.</summary>
    public Task<DhtLookupResult> FindNodeAsync(NodeId target, CancellationToken cancellationToken = default)
        => RunLookup(target, KrpcMethod.FindNode, null, false, cancellationToken);

    /// <summary>Pings <paramref name="endPoint"/>; the node's id when it answers, null when it does not.</summary>
    public Task<NodeId?> PingAsync(IPEndPoint endPoint, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        var waiter = new PingWaiter();
        using (_gate.Enter())
        {
            EnsureRunning();
            if (!_client.Send(endPoint, QuerySpec.Ping, waiter)) waiter.OnFailure(endPoint);
        }
        if (cancellationToken.CanBeCanceled) waiter.Cancel(cancellationToken);
        return waiter.Task;
    }

    /// <summary>
    /// A node learned elsewhere (a peer's PORT message, BEP 5): pinged, and added to the table if it answers.
    /// </summary>
    public void AddNode(IPEndPoint endPoint)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        if (endPoint.Address.IsIPv4MappedToIPv6) endPoint = new IPEndPoint(endPoint.Address.MapToIPv4(), endPoint.Port);
        using DhtGate.Scope scope = _gate.Enter();
        if (_disposed || !_started || RemoteEndPointRules.WhyNotRemote(endPoint) is not null) return;
        if (endPoint.AddressFamily != _transport!.LocalEndPoint.AddressFamily) return;
        if (_table.FindByEndPoint(endPoint) is not null) return;
        _client.Send(endPoint, QuerySpec.Ping, null);
    }

    /// <summary>A snapshot of the node's counters.</summary>
    public DhtStats GetStats()
    {
        using DhtGate.Scope scope = _gate.Enter();
        int good = 0;
        foreach (RoutingNode n in _table.AllNodes()) if (_table.StateOf(n) == NodeState.Good) good++;
        return new DhtStats(Id, _table.Count, good, _table.BucketCount, _client.PendingCount, _lookups.Count + _waiting.Count,
            _responder.Store.InfoHashCount, _responder.Store.PeerCount, _responder.QueriesReceived, _responder.QueriesDropped,
            _client.QueriesSent, _client.Timeouts, ExternalAddress)
        {
            IdConflicts = _conflicts.Conflicts,
        };
    }

    /// <summary>Up to <paramref name="count"/> good nodes of our table closest to <paramref name="target"/>, closest first.</summary>
    public IReadOnlyList<NodeContact> GetClosestNodes(NodeId target, int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 0);
        using DhtGate.Scope scope = _gate.Enter();
        return count == 0 || _disposed ? [] : _table.Closest(target, count);
    }

    /// <summary>The routing table's nodes right now (a copy).</summary>
    public IReadOnlyList<NodeContact> GetNodes()
    {
        using DhtGate.Scope scope = _gate.Enter();
        var list = new List<NodeContact>(_table.Count);
        foreach (RoutingNode n in _table.AllNodes()) list.Add(n.Contact);
        return list;
    }

    /// <summary>Saves the id and table into the data directory now (no-op without one, or when another node owns it).</summary>
    public void SaveState()
    {
        DhtState state;
        using (_gate.Enter())
        {
            if (!_state.CanSave) return;
            state = SnapshotState();
            _lastSave = _time.GetUtcNow();
        }
        _state.Save(state);
    }

    /// <summary>
    /// Stops: fails pending queries, cancels lookups, saves the state, closes the transport (without waiting for its
    /// receive loop to end: <see cref="DisposeAsync"/> waits).
    /// </summary>
    public void Dispose()
    {
        if (Stop()) _ = DisposeTransportAsync().AsTask();
    }

    /// <summary>Stops like <see cref="Dispose"/>, and waits until the transport's receive loop has ended.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Stop()) await DisposeTransportAsync().ConfigureAwait(false);
    }

    private bool Stop()
    {
        List<LookupRunner> runs;
        List<LookupRequest> waiting;
        DhtState? state = null;
        using (_gate.Enter())
        {
            if (_disposed) return false;
            _disposed = true;
            _maintenance?.Dispose();
            _client.Close();
            _gate.Close();
            runs = [.. _lookups];
            _lookups.Clear();
            waiting = [.. _waiting];
            _waiting.Clear();
            foreach (LookupRunner run in runs) run.Abort();
            if (_started && _state.CanSave) state = SnapshotState();
        }
        foreach (LookupRequest request in waiting)
        {
            request.Registration.Unregister();
            request.Completion?.TrySetException(new ObjectDisposedException(nameof(DhtNode)));
        }
        if (state is not null) _state.Save(state);
        _state.Dispose(); // the folder is free for the next node once the last save is written; the id is no longer used
        return true;
    }

    private ValueTask DisposeTransportAsync() => _transport?.DisposeAsync() ?? ValueTask.CompletedTask;

    // ---------------------------------------------------------------- receiving

    /// <summary>The packet handler: decodes and dispatches one datagram. Never throws.</summary>
    internal void OnDatagram(ReadOnlySpan<byte> datagram, IPEndPoint source)
    {
        try
        {
            if (source.Address.IsIPv4MappedToIPv6) source = new IPEndPoint(source.Address.MapToIPv4(), source.Port);
            if (datagram.Length > KrpcCodec.MaxPacketLength || source.Port == 0)
            {
                using DhtGate.Scope scope = _gate.Enter();
                _responder.CountDropped();
                return;
            }
            KrpcMessage message = KrpcCodec.Decode(datagram.ToArray());
            QueryAnswer? deferred = null;
            List<NodeContact>? learned = null;
            using (_gate.Enter())
            {
                if (_disposed) return;
                switch (message)
                {
                    case KrpcQuery query when query.SenderId == Id && IsOurOwnQuery(query, source):
                        break;
                    case KrpcQuery query:
                        deferred = HandleQuery(query, source, datagram.Length);
                        break;
                    default:
                        HandleReply(message, source);
                        break;
                }
                Volatile.Write(ref _tableCountSnapshot, _table.Count);
                if (_learnedOtherFamily.Count > 0)
                {
                    learned = [.. _learnedOtherFamily];
                    _learnedOtherFamily.Clear();
                }
            }
            // The partner node is called outside our gate: two nodes calling each other under their own locks
            // would deadlock.
            if (deferred is { } d) CompleteDeferredReply(d, ((KrpcQuery)message).Target, source);
            if (learned is not null) OtherFamilyNodesLearned?.Invoke(learned);
        }
        catch (ShoalFormatException)
        {
            // Malformed: no answer at all (an error reply would let spoofed garbage reflect off us).
            using DhtGate.Scope scope = _gate.Enter();
            _responder.CountDropped();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Interlocked.Increment(ref _internalErrors);
            _options.Log?.Invoke($"DHT packet handler error: {ex.GetType().Name}: {ex.Message}");
        }
    }

    /// <summary>Handles a query; returns an answer still missing the other family's nodes, to finish outside the gate.</summary>
    private QueryAnswer? HandleQuery(KrpcQuery query, IPEndPoint source, int queryLength)
    {
        if (query.SenderId == Id) _conflicts.Report(source, "query");
        if (!_responder.Admit(source)) return null;
        if (!query.ReadOnly && query.SenderId != Id) Observe(new NodeContact(query.SenderId, source), responded: false);
        QueryAnswer answer = _responder.Answer(query, source, queryLength, OtherFamilyClosest is not null);
        if (answer.WantsOtherFamily) return answer;
        _gate.Queue(answer.Reply, source, answer.Budget);
        return null;
    }

    /// <summary>Adds the other family's nodes (from the partner node, outside our gate) and sends the reply.</summary>
    private void CompleteDeferredReply(QueryAnswer answer, NodeId target, IPEndPoint source)
    {
        IReadOnlyList<NodeContact> other = [];
        try
        {
            other = OtherFamilyClosest?.Invoke(target, RoutingTable.K) ?? [];
        }
        catch (ObjectDisposedException)
        {
            // The partner is shutting down: answer with our own family only.
        }
        using DhtGate.Scope scope = _gate.Enter();
        if (_disposed) return;
        _gate.Queue(_responder.WithOtherFamily((KrpcResponse)answer.Reply, other), source, answer.Budget);
    }

    private void HandleReply(KrpcMessage message, IPEndPoint source)
    {
        KrpcClient.Pending? pending = _client.Take(message.TransactionId.Span, source);
        if (pending is null) return; // unsolicited or spoofed
        if (message is not KrpcResponse response)
        {
            KrpcClient.Fail(pending);
            return;
        }
        if (response.SenderId == Id)
        {
            // We never answer our own queries (IsOurOwnQuery), so this is another node with our id: a conflict to
            // report, and a real answer to use (the table never holds our own id, so it is not added there).
            _conflicts.Report(source, "reply");
        }
        if (response.RequesterAddress is { } seenAs && _voter.Vote(source.Address, seenAs.Address)) ExternalAddress = _voter.Leader;
        Observe(new NodeContact(response.SenderId, source), responded: true);
        CollectOtherFamily(response);
        _client.Succeed(pending, response);
    }

    /// <summary>
    /// Whether <paramref name="query"/>, carrying our id, is one of our own queries come back to us (we sent a query to
    /// one of our own addresses: a bootstrap list naming this host, a PORT message from ourselves). Then the query we
    /// are waiting on fails now, and the address is remembered so lookups skip it; nobody else could know the
    /// transaction id we gave that very endpoint.
    /// </summary>
    private bool IsOurOwnQuery(KrpcQuery query, IPEndPoint source)
    {
        KrpcClient.Pending? pending = _client.Take(query.TransactionId.Span, source);
        if (pending is null) return false;
        _conflicts.AddSelf(source);
        KrpcClient.Fail(pending);
        return true;
    }

    private void Observe(NodeContact contact, bool responded)
    {
        _table.Observe(contact, responded, out RoutingNode? ping);
        if (ping is not null) _client.Send(ping.EndPoint, QuerySpec.Ping, null); // answer or be replaced
    }

    private void OnQueryTimedOut(IPEndPoint to)
    {
        if (_table.FindByEndPoint(to) is { } node) _table.OnFailure(node.Id);
        if (_savedNodes.Count > 0) _savedNodes.RemoveAll(n => n.EndPoint.Equals(to)); // dead since the last run
    }

    /// <summary>Keeps (a bounded number of) the other family's nodes from an answer for the dual-stack partner.</summary>
    private void CollectOtherFamily(KrpcResponse r)
    {
        if (OtherFamilyNodesLearned is null) return;
        foreach (NodeContact node in _family == AddressFamily.InterNetworkV6 ? r.Nodes : r.Nodes6)
        {
            if (_learnedOtherFamily.Count >= RoutingTable.K * 2) return;
            _learnedOtherFamily.Add(node);
        }
    }

    // ---------------------------------------------------------------- lookups

    private Task<DhtLookupResult> RunLookup(NodeId target, KrpcMethod method, int? announcePort, bool impliedPort, CancellationToken cancellationToken)
    {
        var completion = new TaskCompletionSource<DhtLookupResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        using DhtGate.Scope scope = _gate.Enter();
        EnsureRunning();
        StartOrQueue(new LookupRequest(target, method, completion, announcePort, impliedPort, cancellationToken));
        return completion.Task;
    }

    /// <summary>Starts the lookup if a slot is free, else queues it (bounded: beyond that a caller's lookup fails).</summary>
    private void StartOrQueue(LookupRequest request)
    {
        if (_lookups.Count < _options.MaxActiveLookups)
        {
            StartLookup(request);
            return;
        }
        if (request.Completion is null) return; // a refresh: the next maintenance round asks again
        if (_waiting.Count >= _options.MaxWaitingLookups)
        {
            request.Completion.TrySetException(new InvalidOperationException(
                $"the DHT node is running {_lookups.Count} lookups with {_waiting.Count} waiting; try again later"));
            return;
        }
        if (request.CancellationToken.CanBeCanceled)
        {
            request.Registration = request.CancellationToken.Register(
                static s => ((TaskCompletionSource<DhtLookupResult>)s!).TrySetCanceled(), request.Completion);
        }
        _waiting.Enqueue(request);
    }

    private void StartLookup(LookupRequest request)
    {
        NodeId target = request.Target;
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
        var lookup = new Lookup(target, request.Method, seeds, bootstrap, _options.Alpha, _options.MaxQueriesPerLookup, saved)
        {
            Family = _family,
        };
        lookup.Exclude(Id, _transport?.LocalEndPoint);
        foreach (IPEndPoint self in _conflicts.SelfEndPoints) lookup.Exclude(Id, self);
        var run = new LookupRunner(lookup, _client.Send, _time, _gate, LookupWant(), request.Completion, request.AnnouncePort,
            request.ImpliedPort, OnLookupFinished);
        _lookups.Add(run);
        run.Start();
        run.AttachCancellation(request.CancellationToken); // re-enters the gate; a cancelled token cancels at once
    }

    private void OnLookupFinished(LookupRunner run)
    {
        if (!_lookups.Remove(run) || _disposed) return;
        while (_lookups.Count < _options.MaxActiveLookups && _waiting.TryDequeue(out LookupRequest? next))
        {
            next.Registration.Unregister();
            if (next.Completion is { Task.IsCompleted: true }) continue; // cancelled while it waited
            StartLookup(next);
        }
    }

    /// <summary>
    /// BEP 32 "want" of our lookups: an IPv6 node asks for "n6" explicitly; an IPv4 node sends none (plain BEP 5
    /// nodes understand that best); a dual-stack owner whose other table is still small also asks for the other family.
    /// </summary>
    private KrpcWant LookupWant()
    {
        if (WantOtherFamily?.Invoke() == true) return KrpcWant.N4 | KrpcWant.N6;
        return _family == AddressFamily.InterNetworkV6 ? KrpcWant.N6 : KrpcWant.None;
    }

    // ---------------------------------------------------------------- maintenance

    private void Maintain()
    {
        bool save;
        using (_gate.Enter())
        {
            if (_disposed) return;
            int background = 0;
            foreach (LookupRunner r in _lookups) if (r.IsBackground) background++;
            foreach (NodeId target in _table.TakeRefreshTargets(_random))
            {
                if (background >= 4) break; // the rest come back at the next refresh
                StartOrQueue(new LookupRequest(target, KrpcMethod.FindNode, null, null, false, CancellationToken.None));
                background++;
            }
            foreach (RoutingNode node in _table.TakeNodesToPing(8)) _client.Send(node.EndPoint, QuerySpec.Ping, null);
            _responder.Store.ExpireAll();
            if (_table.Count == 0 && background == 0) StartOrQueue(new LookupRequest(Id, KrpcMethod.FindNode, null, null, false, CancellationToken.None));
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

    /// <summary>A lookup asked for, running or waiting for a slot.</summary>
    private sealed record LookupRequest(NodeId Target, KrpcMethod Method, TaskCompletionSource<DhtLookupResult>? Completion,
        int? AnnouncePort, bool ImpliedPort, CancellationToken CancellationToken)
    {
        public CancellationTokenRegistration Registration { get; set; }
    }
}
