using System.Net;
using Shoal.Transport;
using Shoal.Wire;

namespace Shoal.Swarm;

/// <summary>A connection whose handshake is done, on its way into a torrent actor.</summary>
/// <param name="Transport">The open connection; its input is positioned right after the handshake.</param>
/// <param name="Handshake">What the remote sent.</param>
/// <param name="Incoming">True when the remote dialled us.</param>
/// <param name="DialedEndPoint">The candidate endpoint we dialled (outgoing only), to update its bookkeeping.</param>
internal sealed record PendingPeer(PeerTransport Transport, Handshake Handshake, bool Incoming, IPEndPoint? DialedEndPoint)
{
    /// <summary>The connector (or acceptor) the connection came through ("tcp"); null when not known.</summary>
    public string? Connector { get; init; }
}
