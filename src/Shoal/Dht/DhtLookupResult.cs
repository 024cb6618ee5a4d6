using System.Net;

namespace Shoal.Dht;

/// <summary>What a lookup found and what it cost.</summary>
/// <param name="Target">The id or info-hash looked up.</param>
/// <param name="Peers">Peers gathered (get_peers), without duplicates.</param>
/// <param name="ClosestNodes">The k closest nodes that answered, closest first.</param>
/// <param name="QueriesSent">Queries sent by the lookup.</param>
/// <param name="Responses">Answers received.</param>
/// <param name="Hops">Depth of the lookup (1 = the seeds answered).</param>
/// <param name="FirstPeersHop">Depth at which the first peers came (0 if none).</param>
/// <param name="Elapsed">Time from start to end, by the node's clock.</param>
/// <param name="FirstPeersAfter">Time until the first peers arrived; null if none did.</param>
/// <param name="AnnouncedTo">Nodes an announce_peer was sent to (AnnounceAsync only).</param>
public sealed record DhtLookupResult(
    NodeId Target,
    IReadOnlyList<IPEndPoint> Peers,
    IReadOnlyList<NodeContact> ClosestNodes,
    int QueriesSent,
    int Responses,
    int Hops,
    int FirstPeersHop,
    TimeSpan Elapsed,
    TimeSpan? FirstPeersAfter,
    int AnnouncedTo);
