namespace Shoal.Dht;

/// <summary>A snapshot of a node's counters.</summary>
/// <param name="NodeId">Our id.</param>
/// <param name="Nodes">Nodes in the routing table.</param>
/// <param name="GoodNodes">Of which good.</param>
/// <param name="Buckets">Buckets in the table.</param>
/// <param name="PendingQueries">Queries awaiting an answer.</param>
/// <param name="ActiveLookups">Lookups running.</param>
/// <param name="StoredInfoHashes">Info-hashes in the peer store.</param>
/// <param name="StoredPeers">Peers in the peer store.</param>
/// <param name="QueriesReceived">Queries received since start.</param>
/// <param name="QueriesDropped">Queries dropped by the rate limiter or malformed.</param>
/// <param name="QueriesSent">Queries sent since start.</param>
/// <param name="Timeouts">Queries that timed out.</param>
/// <param name="ExternalAddress">Our address as voted by responders (BEP 42 "ip"), if known.</param>
public sealed record DhtStats(
    NodeId NodeId,
    int Nodes,
    int GoodNodes,
    int Buckets,
    int PendingQueries,
    int ActiveLookups,
    int StoredInfoHashes,
    int StoredPeers,
    long QueriesReceived,
    long QueriesDropped,
    long QueriesSent,
    long Timeouts,
    System.Net.IPAddress? ExternalAddress)
{
    /// <summary>Messages from another node that carried our own node id (issue 21: two processes sharing one identity).</summary>
    public long IdConflicts { get; init; }
}
