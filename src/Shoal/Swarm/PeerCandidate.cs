using System.Net;

namespace Shoal.Swarm;

/// <summary>Where a known peer address stands.</summary>
internal enum CandidateState
{
    /// <summary>Not connected; may be dialled once its back-off has passed.</summary>
    Idle,
    /// <summary>A dial is in progress.</summary>
    Connecting,
    /// <summary>Connected.</summary>
    Connected,
}

/// <summary>An address we may dial, with its failure back-off. Owned by a <see cref="PeerList"/>.</summary>
internal sealed class PeerCandidate(IPEndPoint endPoint)
{
    public IPEndPoint EndPoint { get; } = endPoint;

    /// <summary>Everywhere this address was learned from.</summary>
    public PeerSource Source { get; set; }
    public CandidateState State { get; set; }

    /// <summary>Failed dials and closed connections since the last connection that lasted.</summary>
    public int Failures { get; set; }

    /// <summary>Timestamp (TimeProvider ticks) before which the candidate is not dialled again.</summary>
    public long NextAttempt { get; set; }

    /// <summary>When the current connection was made (TimeProvider ticks), while <see cref="State"/> is Connected.</summary>
    public long ConnectedAt { get; set; }

    /// <summary>The connector ("tcp", "utp") the last connection with this peer came through: tried first next time.</summary>
    public string? Connector { get; set; }

    /// <summary>The address turned out to be this session: never dialled again.</summary>
    public bool IsSelf { get; set; }
}
