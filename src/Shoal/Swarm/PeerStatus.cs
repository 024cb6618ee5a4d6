using System.Net;
using Shoal.Transport;
using Shoal.Transport.Encryption;

namespace Shoal.Swarm;

/// <summary>A snapshot of one connected peer of a torrent.</summary>
/// <param name="ConnectionId">Unique within the session for the life of the connection.</param>
/// <param name="EndPoint">Remote address.</param>
/// <param name="PeerId">The 20-byte peer id the remote sent in its handshake.</param>
/// <param name="Client">Client name guessed from the peer id.</param>
/// <param name="Incoming">True when the remote dialled us.</param>
/// <param name="Downloaded">Payload bytes received from this peer.</param>
/// <param name="Uploaded">Payload bytes sent to this peer.</param>
/// <param name="DownloadRate">Bytes per second from this peer.</param>
/// <param name="UploadRate">Bytes per second to this peer.</param>
/// <param name="Progress">Share of pieces the peer has, 0..1.</param>
/// <param name="AmChoking">We choke the peer.</param>
/// <param name="PeerChoking">The peer chokes us.</param>
/// <param name="AmInterested">We want something the peer has.</param>
/// <param name="PeerInterested">The peer wants something we have.</param>
/// <param name="Source">Where we learned of the peer.</param>
/// <param name="Encryption">How the connection's bytes travel: plain, or after an MSE/PE handshake obfuscated or RC4.</param>
public sealed record PeerStatus(
    long ConnectionId,
    IPEndPoint EndPoint,
    ReadOnlyMemory<byte> PeerId,
    string Client,
    bool Incoming,
    long Downloaded,
    long Uploaded,
    long DownloadRate,
    long UploadRate,
    double Progress,
    bool AmChoking,
    bool PeerChoking,
    bool AmInterested,
    bool PeerInterested,
    PeerSource Source,
    PeerEncryption Encryption = PeerEncryption.None)
{
    /// <summary>What carries the connection: TCP or uTP (a property, not a parameter: the 0.1.0 constructor stays).</summary>
    public TransportProtocol Transport { get; init; } = TransportProtocol.Tcp;
}
