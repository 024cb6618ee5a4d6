using System.Net;

namespace Shoal.Trackers;

/// <summary>What a tracker answered to an announce.</summary>
/// <param name="Interval">How long to wait before the next regular announce.</param>
/// <param name="MinInterval">The shortest time the tracker allows between announces, when it says.</param>
/// <param name="Peers">Peers to try, IPv4 and IPv6 together.</param>
/// <param name="Complete">Seeders in the swarm, when the tracker says.</param>
/// <param name="Incomplete">Leechers in the swarm, when the tracker says.</param>
/// <param name="WarningMessage">A warning the tracker attached to a successful answer.</param>
/// <param name="TrackerId">An id to send back on later announces.</param>
/// <param name="ExternalIp">Our address as the tracker sees it (BEP 24).</param>
public sealed record AnnounceResponse(
    TimeSpan Interval,
    TimeSpan? MinInterval,
    IReadOnlyList<IPEndPoint> Peers,
    int? Complete = null,
    int? Incomplete = null,
    string? WarningMessage = null,
    string? TrackerId = null,
    IPAddress? ExternalIp = null);
