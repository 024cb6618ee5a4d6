using System.Net;
using System.Net.Sockets;
using Shoal.Metainfo;
using Shoal.Transport.Udp;

namespace Shoal.Dht;

/// <summary>
/// The IPv4 and the IPv6 DHT together (BEP 32): one <see cref="DhtNode"/> per family, each on its family's UDP socket
/// (a <see cref="UdpSocketPair"/>: the session's, shared with uTP, or the DHT's own), with its own routing table, node
/// id and state file (dht.dat for IPv4, as before, and dht6.dat for IPv6), on the same port
/// number. Lookups and announces run in both DHTs at once and their results are merged. The two nodes "leak" nodes to
/// each other as BEP 32 suggests: a query whose "want" asks for the other family is answered from the partner's
/// table, and while a table is small its partner's lookups ask for both families and hand the other family's nodes
/// over.
/// </summary>
/// <remarks>
/// Which families run follows the options: <see cref="DhtNodeOptions.BindAddress"/> <see cref="IPAddress.Any"/> runs
/// both (IPv6 on <see cref="DhtNodeOptions.Ipv6BindAddress"/>, default <see cref="IPAddress.IPv6Any"/>); a specific
/// IPv4 address runs IPv4 there, plus IPv6 only when <see cref="DhtNodeOptions.Ipv6BindAddress"/> is set; an IPv6
/// address runs IPv6 only. An IPv6 socket that cannot bind (a host without IPv6) is logged and skipped.
/// </remarks>
public sealed class DualStackDht : IAsyncDisposable
{
    private readonly DhtNodeOptions _options;
    private readonly TimeProvider _time;
    private readonly IPAddress? _v4Bind;
    private readonly IPAddress? _v6Bind;
    private readonly bool _ownsUdp;
    private UdpSocketPair? _udp;
    private DhtNode? _v4;
    private DhtNode? _v6;
    private DhtStateFolder? _folder; // both nodes' state files, claimed once for the pair
    private bool _started, _disposed;

    /// <summary>Creates the pair, which will bind UDP sockets of its own; nothing binds until <see cref="StartAsync"/>.</summary>
    /// <exception cref="ArgumentException"><see cref="DhtNodeOptions.Ipv6BindAddress"/> is not an IPv6 address.</exception>
    public DualStackDht(DhtNodeOptions options, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _time = time ?? TimeProvider.System;
        (_v4Bind, _v6Bind) = BindAddresses(options);
        _ownsUdp = true;
    }

    /// <summary>
    /// Creates the pair over the session's UDP sockets (see <see cref="BindUdp"/>): each family whose socket is there
    /// runs, sharing it with the port's other protocols (uTP). The sockets stay open when the DHT is disposed.
    /// </summary>
    public DualStackDht(DhtNodeOptions options, TimeProvider? time, UdpSocketPair udp)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(udp);
        _options = options;
        _time = time ?? TimeProvider.System;
        _udp = udp;
        _v4Bind = udp.Ipv4?.LocalEndPoint.Address;
        _v6Bind = udp.Ipv6?.LocalEndPoint.Address;
    }

    /// <summary>
    /// Binds the UDP sockets <paramref name="options"/> ask for, as <see cref="StartAsync"/> would (see the class
    /// remarks), for an owner that shares them between the DHT and other protocols: IPv4 at
    /// <see cref="DhtNodeOptions.BindAddress"/>:<see cref="DhtNodeOptions.Port"/>, IPv6 on the same port number.
    /// </summary>
    /// <exception cref="SocketException">No family could bind.</exception>
    /// <exception cref="ArgumentException"><see cref="DhtNodeOptions.Ipv6BindAddress"/> is not an IPv6 address.</exception>
    public static UdpSocketPair BindUdp(DhtNodeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        (IPAddress? v4, IPAddress? v6) = BindAddresses(options);
        return UdpSocketPair.Bind(v4, v6, options.Port, options.Log);
    }

    private static (IPAddress? V4, IPAddress? V6) BindAddresses(DhtNodeOptions options)
    {
        IPAddress? v4 = null, v6 = null;
        IPAddress bind = options.BindAddress;
        if (bind.IsIPv4MappedToIPv6) bind = bind.MapToIPv4();
        if (bind.AddressFamily == AddressFamily.InterNetwork)
        {
            v4 = bind;
            if (options.Ipv6BindAddress is { } address) v6 = address;
            else if (bind.Equals(IPAddress.Any)) v6 = IPAddress.IPv6Any;
        }
        else
        {
            v6 = options.Ipv6BindAddress ?? bind;
        }
        if (v6 is not null && v6.AddressFamily != AddressFamily.InterNetworkV6)
        {
            throw new ArgumentException($"Ipv6BindAddress {v6} is not an IPv6 address", nameof(options));
        }
        return (v4, v6);
    }

    /// <summary>The IPv4 node; null before <see cref="StartAsync"/> or when IPv4 does not run.</summary>
    public DhtNode? Ipv4Node => _v4;

    /// <summary>The IPv6 node; null before <see cref="StartAsync"/> or when IPv6 does not run (or could not bind).</summary>
    public DhtNode? Ipv6Node => _v6;

    /// <summary>
    /// The endpoint to advertise in PORT messages: the IPv4 node's if it runs, else the IPv6 node's. Both families
    /// share the port number whenever it was free in both.
    /// </summary>
    public IPEndPoint? LocalEndPoint => _v4?.LocalEndPoint ?? _v6?.LocalEndPoint;

    /// <summary>
    /// Binds the sockets (unless they were given), then starts the IPv4 node and the IPv6 node, each on its family's
    /// socket: the same port number (any free port if that one is taken in IPv6). A family that cannot bind is logged
    /// and skipped.
    /// </summary>
    /// <exception cref="SocketException">Neither family could bind.</exception>
    /// <exception cref="DhtStateInUseException">
    /// The data directory is in use by another running node and the options say <see cref="DhtStateAccess.ClaimOrFail"/>.
    /// </exception>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_started) throw new InvalidOperationException("the DHT is already started");
        _started = true;
        _folder = DhtStateStore.ClaimFor(_options);
        _udp ??= UdpSocketPair.Bind(_v4Bind, _v6Bind, _options.Port, _options.Log);
        if (_udp.Ipv4Error is { } v4Error) _options.Log?.Invoke($"IPv4 DHT is off: cannot bind UDP {_v4Bind}:{_options.Port}: {v4Error.Message}");
        if (_udp.Ipv6Error is { } v6Error) _options.Log?.Invoke($"IPv6 DHT is off: cannot bind UDP [{_v6Bind}]:{_options.Port}: {v6Error.Message}");
        if (_udp.Ipv4 is { } v4Socket)
        {
            DhtNodeOptions v4Options = _options with
            {
                BindAddress = v4Socket.LocalEndPoint.Address,
                Port = v4Socket.LocalEndPoint.Port,
                ExternalAddress = Only(AddressFamily.InterNetwork, _options.ExternalAddress),
            };
            _v4 = new DhtNode(v4Options, new UdpDatagramTransport(v4Socket), _time, DhtStateStore.InFolder(v4Options, _folder));
            await _v4.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        if (_udp.Ipv6 is { } v6Socket)
        {
            DhtNodeOptions v6Options = _options with
            {
                BindAddress = v6Socket.LocalEndPoint.Address,
                Port = v6Socket.LocalEndPoint.Port,
                StateFileName = DhtState.Ipv6FileName,
                ExternalAddress = Only(AddressFamily.InterNetworkV6, _options.ExternalAddress),
                // Distinct random streams: identical transaction ids in both families would only confuse captures.
                RandomSeed = _options.RandomSeed is { } seed ? unchecked(seed + 0x6006) : null,
            };
            _v6 = new DhtNode(v6Options, new UdpDatagramTransport(v6Socket), _time, DhtStateStore.InFolder(v6Options, _folder));
            await _v6.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        if (_v4 is not null && _v6 is not null) Link(_v4, _v6);
    }

    private static IPAddress? Only(AddressFamily family, IPAddress? address) => address?.AddressFamily == family ? address : null;

    /// <summary>BEP 32 leaking between the two tables (see the class remarks).</summary>
    private static void Link(DhtNode v4, DhtNode v6)
    {
        v4.OtherFamilyClosest = v6.GetClosestNodes;
        v6.OtherFamilyClosest = v4.GetClosestNodes;
        v4.WantOtherFamily = () => v6.NeedsNodes;
        v6.WantOtherFamily = () => v4.NeedsNodes;
        v4.OtherFamilyNodesLearned = nodes => Feed(v6, nodes);
        v6.OtherFamilyNodesLearned = nodes => Feed(v4, nodes);

        static void Feed(DhtNode target, IReadOnlyList<NodeContact> nodes)
        {
            if (!target.NeedsNodes) return; // steady state: each DHT fills its own table
            foreach (NodeContact node in nodes) target.AddNode(node.EndPoint);
        }
    }

    /// <summary>Looks up the nodes closest to each node's own id in both DHTs at once (fills both tables).</summary>
    public Task<DhtLookupResult> BootstrapAsync(CancellationToken cancellationToken = default)
    {
        (DhtNode? v4, DhtNode? v6) = Running();
        return RunBothAsync(v4?.BootstrapAsync(cancellationToken), v6?.BootstrapAsync(cancellationToken));
    }

    /// <summary>get_peers in both DHTs at once; the peers of both, without duplicates.</summary>
    public Task<DhtLookupResult> GetPeersAsync(InfoHash infoHash, CancellationToken cancellationToken = default)
    {
        (DhtNode? v4, DhtNode? v6) = Running();
        return RunBothAsync(v4?.GetPeersAsync(infoHash, cancellationToken), v6?.GetPeersAsync(infoHash, cancellationToken));
    }

    /// <summary>
    /// Announces in both DHTs at once (each announces the address its packets come from, BEP 32); the peers found by
    /// both, without duplicates, and the announce_peer counts summed.
    /// </summary>
    public Task<DhtLookupResult> AnnounceAsync(InfoHash infoHash, int port, bool impliedPort = false, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(port, impliedPort ? 0 : 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        (DhtNode? v4, DhtNode? v6) = Running();
        return RunBothAsync(
            v4?.AnnounceAsync(infoHash, port, impliedPort, cancellationToken),
            v6?.AnnounceAsync(infoHash, port, impliedPort, cancellationToken));
    }

    /// <summary>
    /// A node learned from a peer's PORT message, given to the DHT of its address family (an IPv4-mapped IPv6 address
    /// is IPv4). Ignored when that family does not run.
    /// </summary>
    public void AddNode(IPEndPoint endPoint)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        if (endPoint.Address.IsIPv4MappedToIPv6) endPoint = new IPEndPoint(endPoint.Address.MapToIPv4(), endPoint.Port);
        DhtNode? node = endPoint.AddressFamily == AddressFamily.InterNetwork ? _v4 : _v6;
        node?.AddNode(endPoint);
    }

    /// <summary>
    /// The two nodes' counters added up; <see cref="DhtStats.NodeId"/> and <see cref="DhtStats.ExternalAddress"/> are
    /// the IPv4 node's when it runs (see <see cref="Ipv4Node"/> and <see cref="Ipv6Node"/> for each family's own).
    /// </summary>
    /// <exception cref="InvalidOperationException">The DHT is not started (or no family runs).</exception>
    public DhtStats GetStats()
    {
        (DhtNode? v4, DhtNode? v6) = Running();
        DhtStats? a = v4?.GetStats(), b = v6?.GetStats();
        if (a is null) return b!;
        if (b is null) return a;
        return new DhtStats(a.NodeId, a.Nodes + b.Nodes, a.GoodNodes + b.GoodNodes, a.Buckets + b.Buckets,
            a.PendingQueries + b.PendingQueries, a.ActiveLookups + b.ActiveLookups, a.StoredInfoHashes + b.StoredInfoHashes,
            a.StoredPeers + b.StoredPeers, a.QueriesReceived + b.QueriesReceived, a.QueriesDropped + b.QueriesDropped,
            a.QueriesSent + b.QueriesSent, a.Timeouts + b.Timeouts, a.ExternalAddress ?? b.ExternalAddress)
        {
            IdConflicts = a.IdConflicts + b.IdConflicts,
        };
    }

    /// <summary>Stops both nodes (each saves its state file).</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        if (_v4 is not null) await _v4.DisposeAsync().ConfigureAwait(false);
        if (_v6 is not null) await _v6.DisposeAsync().ConfigureAwait(false);
        if (_ownsUdp && _udp is not null) await _udp.DisposeAsync().ConfigureAwait(false);
        _folder?.Dispose(); // after both nodes saved their state
    }

    private (DhtNode? V4, DhtNode? V6) Running()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_v4 is null && _v6 is null) throw new InvalidOperationException("start the DHT first");
        return (_v4, _v6);
    }

    private static async Task<DhtLookupResult> RunBothAsync(Task<DhtLookupResult>? v4, Task<DhtLookupResult>? v6)
    {
        // WhenAll observes both even when one fails (cancellation, disposal), and rethrows the first failure.
        if (v4 is not null && v6 is not null) await Task.WhenAll(v4, v6).ConfigureAwait(false);
        DhtLookupResult? a = v4 is null ? null : await v4.ConfigureAwait(false);
        DhtLookupResult? b = v6 is null ? null : await v6.ConfigureAwait(false);
        return Merge(a, b);
    }

    /// <summary>One lookup's result from the two families' results (either may be missing, not both).</summary>
    internal static DhtLookupResult Merge(DhtLookupResult? a, DhtLookupResult? b)
    {
        if (a is null) return b ?? throw new ArgumentNullException(nameof(b));
        if (b is null) return a;
        var peers = new List<IPEndPoint>(a.Peers.Count + b.Peers.Count);
        var seen = new HashSet<IPEndPoint>();
        foreach (IPEndPoint p in a.Peers) if (seen.Add(p)) peers.Add(p);
        foreach (IPEndPoint p in b.Peers) if (seen.Add(p)) peers.Add(p);
        var closest = new List<NodeContact>(a.ClosestNodes.Count + b.ClosestNodes.Count);
        closest.AddRange(a.ClosestNodes);
        closest.AddRange(b.ClosestNodes);
        NodeId target = a.Target;
        closest.Sort((x, y) => target.CompareDistance(x.Id, y.Id));
        int firstHop = a.FirstPeersHop == 0 ? b.FirstPeersHop : b.FirstPeersHop == 0 ? a.FirstPeersHop : Math.Min(a.FirstPeersHop, b.FirstPeersHop);
        TimeSpan? firstAfter = a.FirstPeersAfter is null ? b.FirstPeersAfter
            : b.FirstPeersAfter is null ? a.FirstPeersAfter
            : a.FirstPeersAfter < b.FirstPeersAfter ? a.FirstPeersAfter : b.FirstPeersAfter;
        return new DhtLookupResult(target, peers, closest, a.QueriesSent + b.QueriesSent, a.Responses + b.Responses,
            Math.Max(a.Hops, b.Hops), firstHop, a.Elapsed > b.Elapsed ? a.Elapsed : b.Elapsed, firstAfter, a.AnnouncedTo + b.AnnouncedTo);
    }
}
