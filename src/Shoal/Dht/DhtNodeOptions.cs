using System.Net;

namespace Shoal.Dht;

/// <summary>Settings of a <see cref="DhtNode"/>. The defaults suit the public BitTorrent DHT.</summary>
public sealed record DhtNodeOptions
{
    /// <summary>The well-known public bootstrap routers.</summary>
    public static IReadOnlyList<string> DefaultBootstrapNodes { get; } =
        ["router.bittorrent.com:6881", "dht.transmissionbt.com:6881", "router.utorrent.com:6881"];

    /// <summary>UDP port to bind (0 picks a free one).</summary>
    public int Port { get; init; } = 6881;

    /// <summary>Address to bind.</summary>
    public IPAddress BindAddress { get; init; } = IPAddress.Any;

    /// <summary>
    /// The IPv6 address a <see cref="DualStackDht"/> binds its IPv6 node to. Null (the default) means
    /// <see cref="IPAddress.IPv6Any"/> when <see cref="BindAddress"/> is <see cref="IPAddress.Any"/> or an IPv6 address
    /// (which is then used), and no IPv6 node when <see cref="BindAddress"/> is a specific IPv4 address. A
    /// <see cref="DhtNode"/> alone ignores it (it binds <see cref="BindAddress"/>).
    /// </summary>
    public IPAddress? Ipv6BindAddress { get; init; }

    /// <summary>Where the node id and routing table persist between runs (<see cref="StateFileName"/>); null keeps nothing.</summary>
    public string? DataDirectory { get; init; }

    /// <summary>
    /// How the node uses <see cref="DataDirectory"/> when another running node holds it (issue 21: two processes must
    /// never share one node id). <see cref="DhtStateAccess.Claim"/> by default.
    /// </summary>
    public DhtStateAccess StateAccess { get; init; } = DhtStateAccess.Claim;

    /// <summary>The state file's name inside <see cref="DataDirectory"/>: dht.dat (a <see cref="DualStackDht"/> keeps its IPv6 node in dht6.dat).</summary>
    public string StateFileName { get; init; } = DhtState.FileName;

    /// <summary>Bootstrap nodes, "host:port" or "[v6]:port"; a DNS failure is logged, never fatal.</summary>
    public IReadOnlyList<string> BootstrapNodes { get; init; } = DefaultBootstrapNodes;

    /// <summary>BEP 43 read-only: do not answer queries, mark ours "ro":1 so others keep us out of their tables.</summary>
    public bool ReadOnly { get; init; }

    /// <summary>Our external address if known: the node id is made BEP 42 compliant for it.</summary>
    public IPAddress? ExternalAddress { get; init; }

    /// <summary>Use this node id instead of the saved or a generated one (tests, debugging).</summary>
    public NodeId? NodeId { get; init; }

    /// <summary>Refuse nodes whose id is not BEP 42 compliant for their address (they are always de-prioritised).</summary>
    public bool EnforceSecureIds { get; init; }

    /// <summary>Queries in flight per lookup.</summary>
    public int Alpha { get; init; } = 3;

    /// <summary>Query budget of one lookup.</summary>
    public int MaxQueriesPerLookup { get; init; } = 128;

    /// <summary>A query not answered within this is a failure.</summary>
    public TimeSpan QueryTimeout { get; init; } = TimeSpan.FromSeconds(4);

    /// <summary>Lower bound of the adaptive soft timeout (after which a lookup stops waiting for a node).</summary>
    public TimeSpan MinSoftTimeout { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Upper bound of the adaptive soft timeout.</summary>
    public TimeSpan MaxSoftTimeout { get; init; } = TimeSpan.FromSeconds(1.5);

    /// <summary>Queries awaiting an answer at most; beyond that new queries fail at once.</summary>
    public int MaxPendingQueries { get; init; } = 1024;

    /// <summary>Lookups running at once; more wait their turn (see <see cref="MaxWaitingLookups"/>).</summary>
    public int MaxActiveLookups { get; init; } = 64;

    /// <summary>
    /// Lookups waiting for one of the <see cref="MaxActiveLookups"/> slots; beyond that a new lookup fails at once with
    /// <see cref="InvalidOperationException"/> (the node's own refresh lookups are simply skipped).
    /// </summary>
    public int MaxWaitingLookups { get; init; } = 1024;

    /// <summary>Most info-hashes in the peer store.</summary>
    public int MaxStoredInfoHashes { get; init; } = 2000;

    /// <summary>Most peers stored per info-hash.</summary>
    public int MaxPeersPerInfoHash { get; init; } = 200;

    /// <summary>Most peers ("values") in one get_peers answer.</summary>
    public int MaxValuesPerReply { get; init; } = 50;

    /// <summary>Queries per second accepted from one IP address (sustained).</summary>
    public double QueriesPerSecondPerSource { get; init; } = 20;

    /// <summary>Queries one IP address may send in a burst.</summary>
    public double QueryBurstPerSource { get; init; } = 50;

    /// <summary>
    /// Anti-amplification: an answer to a source we have never had an answer from is at most this many times the size
    /// of its query (values, then nodes, are trimmed to fit).
    /// </summary>
    public int UnverifiedReplyFactor { get; init; } = 4;

    /// <summary>
    /// Largest answer sent to anyone, in bytes of UDP payload: BEP 32's 1024, which crosses any IPv6 path (minimum MTU
    /// 1280) and a Teredo tunnel unfragmented. Values are trimmed first, then nodes; our queries are far smaller.
    /// </summary>
    public int MaxReplyLength { get; init; } = 1024;

    /// <summary>How often the node refreshes stale buckets, pings questionable nodes and expires peers.</summary>
    public TimeSpan MaintenanceInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>How often the routing table is saved (when <see cref="DataDirectory"/> is set).</summary>
    public TimeSpan SaveInterval { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Seed of every random choice the node makes (node id, transaction ids, refresh targets, which stored peers to
    /// return): a simulation replays exactly from it. Null seeds from the system's entropy, as a real node must. (The
    /// write-token secrets are cryptographic and never come from it.)
    /// </summary>
    public int? RandomSeed { get; init; }

    /// <summary>Receives one-line diagnostics (bootstrap failures, state file problems); null discards them.</summary>
    public Action<string>? Log { get; init; }
}
