namespace Shoal.Swarm;

/// <summary>
/// A torrent's peers and payload bytes by transport: connected peers now, bytes this run (closed connections
/// included), so a user sees how much of the traffic went over uTP and how much over TCP.
/// </summary>
/// <param name="TcpPeers">Connected peers over TCP.</param>
/// <param name="UtpPeers">Connected peers over uTP.</param>
/// <param name="TcpDownloaded">Payload bytes received over TCP this run.</param>
/// <param name="TcpUploaded">Payload bytes sent over TCP this run.</param>
/// <param name="UtpDownloaded">Payload bytes received over uTP this run.</param>
/// <param name="UtpUploaded">Payload bytes sent over uTP this run.</param>
public sealed record TransportCounts(int TcpPeers, int UtpPeers, long TcpDownloaded, long TcpUploaded, long UtpDownloaded, long UtpUploaded)
{
    /// <summary>No peers, no bytes.</summary>
    public static TransportCounts None { get; } = new(0, 0, 0, 0, 0, 0);

    /// <summary>"2 uTP, 1 TCP" — the connected peers by transport, the non-zero ones, or "none".</summary>
    public string DescribePeers() => (UtpPeers, TcpPeers) switch
    {
        (0, 0) => "none",
        (> 0, 0) => $"{UtpPeers} uTP",
        (0, > 0) => $"{TcpPeers} TCP",
        _ => $"{UtpPeers} uTP, {TcpPeers} TCP",
    };
}
