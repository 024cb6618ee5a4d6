using Shoal.Discovery;
using Shoal.Metainfo;
using Shoal.Wire;

namespace Shoal.Swarm;

/// <summary>
/// The extension protocol (BEP 10) of one torrent: our extension handshake to each peer, and the dispatch of what
/// comes back to the exchanges beside their protocol code (<see cref="MetadataExchange"/> for BEP 9,
/// <see cref="PexExchange"/> for BEP 11, <see cref="HolepunchExchange"/> for BEP 55). A malformed message closes its sender; a malformed handshake is ignored, as
/// libtorrent does. Single-threaded (the torrent actor drives it).
/// </summary>
internal sealed class ExtensionMessages(TorrentContext torrent, MetadataExchange metadata, PexExchange pex, HolepunchExchange holepunch, PeerAdmission admission)
{
    /// <summary>Our extension handshake: metadata and PEX (metadata alone for a private torrent, BEP 27), reqq, listen port.</summary>
    public void Greet(PeerConnection peer)
    {
        if (!peer.SupportsExtensions) return;
        SessionContext session = torrent.Session;
        ExtensionHandshake local = ExtensionHandshake.CreateLocal(session.ListenPort, session.Options.ClientName,
            torrent.Torrent?.InfoDictionary.Length, peer.EndPoint.Address, UploadRequests.MaxQueuedPerPeer) with
        {
            // Our external address as the gateway reported it (port mapping), and whether we prefer MSE (BEP 10 "e").
            Ipv4 = session.ExternalAddress is { AddressFamily: System.Net.Sockets.AddressFamily.InterNetwork } v4 ? v4 : null,
            Ipv6 = session.ExternalAddress is { AddressFamily: System.Net.Sockets.AddressFamily.InterNetworkV6 } v6 ? v6 : null,
            PrefersEncryption = session.Options.Encryption != Transport.Encryption.EncryptionMode.Disable,
        };
        // BEP 27: a private torrent's peers come from its tracker only, so PEX is not offered.
        if (torrent.IsPrivate) local = local with { Extensions = new Dictionary<string, byte> { [ExtensionIds.MetadataName] = ExtensionIds.Metadata } };
        // BEP 55 punches over uTP: offered only when uTP runs (and so never for a private torrent).
        else if (holepunch.Enabled)
            local = local with { Extensions = new Dictionary<string, byte>(local.Extensions) { [HolepunchMessage.ExtensionName] = ExtensionIds.Holepunch } };
        peer.SendExtended(ExtensionIds.Handshake, local.Encode());
    }

    /// <summary>An extended message; returns the torrent once a magnet link's metadata has arrived whole (null otherwise).</summary>
    public Torrent? OnMessage(PeerConnection peer, byte id, byte[] payload)
    {
        if (!peer.SupportsExtensions)
        {
            peer.Close("sent an extended message without the extension protocol bit");
            return null;
        }
        try
        {
            switch (id)
            {
                case ExtensionIds.Handshake:
                    OnHandshake(peer, payload);
                    return null;
                case ExtensionIds.Metadata:
                    MetadataOutcome outcome = metadata.OnMessage(peer, MetadataMessage.Parse(payload));
                    if (outcome == MetadataOutcome.Completed) return ParseMetadata(metadata.InfoDictionary);
                    if (outcome == MetadataOutcome.HashMismatch) PunishMetadataContributors(metadata.LastFailureContributors);
                    return null;
                case ExtensionIds.Pex:
                    OnPex(peer, payload);
                    return null;
                case ExtensionIds.Holepunch:
                    holepunch.OnMessage(peer, payload);
                    return null;
                default:
                    // An id we never advertised: BEP 10 asks to ignore it.
                    return null;
            }
        }
        catch (ShoalFormatException ex)
        {
            peer.Close("bad extension message: " + ex.Message);
            return null;
        }
    }

    private void OnPex(PeerConnection peer, byte[] payload)
    {
        PexMessage message;
        try
        {
            message = PexMessage.Parse(payload);
        }
        catch (PexListException ex)
        {
            // Ignored whole: no entry of a malformed list is trusted (libtorrent keeps such a peer too).
            torrent.Log($"peer {peer.EndPoint}: PEX message ignored: {ex.Message}");
            return;
        }
        if (torrent.IsPrivate || !torrent.Session.Options.EnablePex) return; // PEX off: what peers tell us is not used
        List<PexPeer> taken = pex.OnMessage(peer, message, known => torrent.PeerList.Find(known) is not null, out int overQuota);
        foreach (PexPeer added in taken) admission.AddCandidate(added.EndPoint, PeerSource.Pex);
        // Who introduced whom, for BEP 55 (every entry: one already known is still reachable through this peer).
        holepunch.OnPexAdded(peer, message.Added);
        if (overQuota > 0) torrent.Log($"peer {peer.EndPoint} sent {overQuota} more new addresses than one peer may hand us in a minute; ignored");
    }

    private void OnHandshake(PeerConnection peer, byte[] payload)
    {
        ExtensionHandshake handshake;
        try
        {
            handshake = ExtensionHandshake.Parse(payload);
        }
        catch (ShoalFormatException ex)
        {
            // Ignored, as libtorrent does: the peer simply gets no extensions from us.
            torrent.Log($"peer {peer.EndPoint}: extension handshake ignored: {ex.Message}");
            return;
        }
        peer.Extensions = peer.Extensions is null ? handshake : peer.Extensions.MergeWith(handshake);
        if (peer.Incoming && peer.ListenEndPoint is { } listen && torrent.Session.WhyNotDial(listen) is null)
            torrent.PeerList.AddConnected(listen, PeerSource.Incoming, torrent.Now());
        metadata.OnHandshake(peer, handshake);
    }

    /// <summary>
    /// The info dictionary matches the info-hash. A torrent the swarm shares but that cannot be used is an error with
    /// nothing to retry (<see cref="InvalidDataException"/>).
    /// </summary>
    private Torrent ParseMetadata(ReadOnlyMemory<byte> infoDictionary)
    {
        try
        {
            return Torrent.FromInfoDictionary(infoDictionary);
        }
        catch (MetainfoException ex)
        {
            throw new InvalidDataException("the swarm's metadata is not a usable torrent: " + ex.Message, ex);
        }
    }

    private void PunishMetadataContributors(IReadOnlyList<int> contributors)
    {
        foreach (int key in contributors)
        {
            if (torrent.Peers.TryGet(key, out PeerConnection peer))
                admission.Ban(peer.EndPoint, peer.ListenEndPoint, peer.PeerId, peer.Client, "sent metadata that does not match the info-hash");
        }
    }
}
