using System.Net;

namespace Shoal.Discovery;

/// <summary>
/// One torrent's side of BEP 11 peer exchange: takes the addresses peers tell us (one message a minute per peer;
/// extra ones are ignored) and tells each peer, at most once a minute, who we are connected to now. Never used for
/// a private torrent (BEP 27). Single-threaded (the torrent actor owns it).
/// </summary>
internal sealed class PexExchange(TimeProvider time, long startedAt)
{
    /// <summary>
    /// A PEX message from <paramref name="peer"/>: the addresses it added, or nothing when the peer sent it too soon
    /// after its previous one.
    /// </summary>
    public IReadOnlyList<PexPeer> OnMessage(IExtensionPeer peer, PexMessage message)
    {
        peer.Pex ??= new PexTracker(peer.ListenEndPoint);
        return peer.Pex.OnReceived(time.GetElapsedTime(startedAt)) ? message.Added : [];
    }

    /// <summary>
    /// Sends each peer that speaks PEX what changed since its last message. <paramref name="connected"/> builds the
    /// current set (listen endpoints with their flags) and is called only when some peer speaks PEX.
    /// </summary>
    public void SendUpdates<TPeer>(IEnumerable<TPeer> peers, Func<Dictionary<IPEndPoint, PexFlags>> connected) where TPeer : IExtensionPeer
    {
        Dictionary<IPEndPoint, PexFlags>? current = null;
        TimeSpan now = time.GetElapsedTime(startedAt);
        foreach (TPeer peer in peers)
        {
            byte remoteId = peer.Extensions?.GetId(ExtensionIds.PexName) ?? 0;
            if (remoteId == 0) continue;
            current ??= connected();
            peer.Pex ??= new PexTracker(peer.ListenEndPoint);
            peer.Pex.Self ??= peer.ListenEndPoint;
            PexMessage? message = peer.Pex.NextMessage(current, now);
            if (message is not null) peer.SendExtended(remoteId, message.Encode());
        }
    }
}
