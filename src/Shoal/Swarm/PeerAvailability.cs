using Shoal.Wire;

namespace Shoal.Swarm;

/// <summary>
/// Which pieces each peer has and what it learns we have: the first BITFIELD / HAVE ALL / HAVE NONE, HAVEs, the
/// availability counts in the picker, our announcement to a new peer, and HAVE to everyone when a piece verifies.
/// What a peer announced before the torrent's piece count was known (a magnet link) is kept aside and replayed.
/// </summary>
internal sealed class PeerAvailability(TorrentContext torrent, BlockRequester requester)
{
    /// <summary>Tells a new peer what we have: one BITFIELD, or HAVE ALL / HAVE NONE with the fast extension.</summary>
    public void Greet(PeerConnection peer)
    {
        BitField have = torrent.Have;
        if (torrent.Torrent is null)
        {
            // Metadata not known yet: we have nothing (an empty BitField would look like "all set").
            if (peer.SupportsFast) peer.Send(new OutboundMessage(MessageId.HaveNone));
            return;
        }
        if (torrent.Priorities is { AllWanted: false })
        {
            // Some verified pieces are only partly on disk (deselected files): announce just the whole ones.
            var shareable = new BitField(have.Length);
            for (int i = 0; i < have.Length; i++) shareable[i] = torrent.IsShareable(i);
            if (!shareable.NoneSet) peer.Send(new OutboundMessage(MessageId.Bitfield, Data: shareable.Bytes.ToArray()));
            else if (peer.SupportsFast) peer.Send(new OutboundMessage(MessageId.HaveNone));
        }
        else if (peer.SupportsFast && have.AllSet) peer.Send(new OutboundMessage(MessageId.HaveAll));
        else if (peer.SupportsFast && have.NoneSet) peer.Send(new OutboundMessage(MessageId.HaveNone));
        else if (!have.NoneSet) peer.Send(new OutboundMessage(MessageId.Bitfield, Data: have.Bytes.ToArray()));
    }

    public void OnHave(PeerConnection peer, int piece)
    {
        if (torrent.Picker is null)
        {
            (peer.Early ??= new EarlyAvailability()).AddHave(piece);
            return;
        }
        if (peer.Has[piece]) return;
        peer.Has[piece] = true;
        torrent.Picker.PeerHasPiece(piece);
        if (!peer.AmInterested && !torrent.Have[piece]) requester.UpdateInterest(peer);
        CloseIfBothSeeds(peer);
    }

    /// <summary>BITFIELD, HAVE ALL or HAVE NONE: only legal as the peer's first message.</summary>
    public void OnAnnouncement(PeerConnection peer, MessageId id, byte[]? bitfield, bool first)
    {
        if (!first)
        {
            peer.Close($"sent {id} after its first message");
            return;
        }
        if (id != MessageId.Bitfield && !peer.SupportsFast) peer.Close($"sent {id} without the fast extension");
        if (torrent.Picker is null)
        {
            var early = peer.Early ??= new EarlyAvailability();
            if (id == MessageId.Bitfield) early.Bitfield = bitfield;
            early.HasAll = id == MessageId.HaveAll;
            return;
        }
        try
        {
            if (id == MessageId.Bitfield) peer.Has.LoadFrom(bitfield!);
            else if (id == MessageId.HaveAll) peer.Has.SetAll();
        }
        catch (ShoalFormatException ex)
        {
            peer.Close("bad bitfield: " + ex.Message);
            return;
        }
        torrent.Picker.AddPeer(peer.Has);
        requester.UpdateInterest(peer);
        CloseIfBothSeeds(peer);
    }

    /// <summary>
    /// The picker exists now (the data check ended): gives a peer that connected before its real piece set, replaying
    /// what it announced early, and tells it what we have if it could not be told before (a magnet link).
    /// </summary>
    public void JoinPeerToPieces(PeerConnection peer)
    {
        bool greetNow = peer.Has.Length != torrent.Have.Length;
        if (greetNow) peer.Has = new BitField(torrent.Have.Length);
        EarlyAvailability? early = peer.Early;
        peer.Early = null;
        try
        {
            if (early?.Bitfield is { } bits) peer.Has.LoadFrom(bits);
            if (early?.HasAll == true) peer.Has.SetAll();
            foreach (int piece in early?.Haves ?? [])
            {
                if ((uint)piece >= (uint)peer.Has.Length) throw new ShoalFormatException($"HAVE for piece {piece} of {peer.Has.Length}");
                peer.Has[piece] = true;
            }
        }
        catch (ShoalFormatException ex)
        {
            peer.Close("bad availability: " + ex.Message);
            return;
        }
        torrent.Picker!.AddPeer(peer.Has);
        if (greetNow)
        {
            foreach (int i in torrent.Have.SetBits)
                if (torrent.IsShareable(i)) peer.Send(new OutboundMessage(MessageId.Have, i));
        }
        requester.UpdateInterest(peer);
    }

    /// <summary>A piece verified: HAVE to the peers without it; the ones with it may no longer interest us.</summary>
    public void OnPieceVerified(int piece)
    {
        bool shareable = torrent.IsShareable(piece);
        foreach (PeerConnection peer in torrent.Peers.All)
        {
            if (!peer.Has[piece]) { if (shareable) peer.Send(new OutboundMessage(MessageId.Have, piece)); }
            // Only peers that had this piece can have become uninteresting through it.
            else if (peer.AmInterested) requester.UpdateInterest(peer);
        }
    }

    public void CloseIfBothSeeds(PeerConnection peer)
    {
        if (torrent.State == TorrentState.Seeding && peer.Has.AllSet) peer.Close("both sides are seeds");
    }
}
