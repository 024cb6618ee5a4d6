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
    /// A PEX message from <paramref name="peer"/>: the addresses it added that we take, or nothing when the peer sent it
    /// too soon after its previous one (BEP 11 allows one a minute). Addresses we know (<paramref name="isKnown"/>) cost
    /// nothing; new ones come out of the peer's quota (<see cref="PexTracker.NewAddressesPerMinute"/>), and
    /// <paramref name="overQuota"/> counts those left out because it was spent.
    /// </summary>
    public List<PexPeer> OnMessage(IExtensionPeer peer, PexMessage message, Func<IPEndPoint, bool> isKnown, out int overQuota)
    {
        overQuota = 0;
        peer.Pex ??= new PexTracker(peer.ListenEndPoint);
        TimeSpan now = time.GetElapsedTime(startedAt);
        var taken = new List<PexPeer>(message.Added.Count);
        if (!peer.Pex.OnReceived(now)) return taken;
        foreach (PexPeer added in message.Added)
        {
            if (isKnown(PexTracker.Normalize(added.EndPoint)) || peer.Pex.TryTakeNewAddress(now)) taken.Add(added);
            else overQuota++;
        }
        return taken;
    }

    /// <summary>
    /// Sends each peer that speaks PEX what changed since its last message: the connected peers' listen endpoints
    /// (those whose port is known), flagged as seeds (by <paramref name="isSeed"/>), reachable (we dialled them) and with
    /// whatever <paramref name="moreFlags"/> adds (uTP, ut_holepunch).
    /// </summary>
    public void SendUpdates<TPeer>(IReadOnlyCollection<TPeer> peers, Func<TPeer, bool> isSeed, Func<TPeer, PexFlags>? moreFlags = null) where TPeer : IExtensionPeer
    {
        Dictionary<IPEndPoint, PexFlags>? current = null;
        TimeSpan now = time.GetElapsedTime(startedAt);
        foreach (TPeer peer in peers)
        {
            byte remoteId = peer.Extensions?.GetId(ExtensionIds.PexName) ?? 0;
            if (remoteId == 0) continue;
            current ??= Connected(peers, isSeed, moreFlags);
            peer.Pex ??= new PexTracker(peer.ListenEndPoint);
            peer.Pex.Self ??= peer.ListenEndPoint;
            PexMessage? message = peer.Pex.NextMessage(current, now);
            if (message is not null) peer.SendExtended(remoteId, message.Encode());
        }
    }

    private static Dictionary<IPEndPoint, PexFlags> Connected<TPeer>(IReadOnlyCollection<TPeer> peers, Func<TPeer, bool> isSeed, Func<TPeer, PexFlags>? moreFlags)
        where TPeer : IExtensionPeer
    {
        var connected = new Dictionary<IPEndPoint, PexFlags>(peers.Count);
        foreach (TPeer peer in peers)
        {
            if (peer.ListenEndPoint is not { } listen) continue;
            PexFlags flags = moreFlags?.Invoke(peer) ?? PexFlags.None;
            if (isSeed(peer)) flags |= PexFlags.Seed;
            if (!peer.Incoming) flags |= PexFlags.Reachable;
            connected[PexTracker.Normalize(listen)] = flags;
        }
        return connected;
    }
}
