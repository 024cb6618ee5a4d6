using Shoal.Picking;
using Shoal.Wire;

namespace Shoal.Swarm;

/// <summary>
/// Which pieces each peer has and what it learns we have: BITFIELD / HAVE ALL / HAVE NONE (at any point of the
/// connection), HAVEs, the availability counts in the picker, our announcement to a new peer, and HAVE to everyone
/// when a piece verifies. What a peer announced before the picker existed (a magnet link's metadata, or the data
/// check, still under way) is kept aside and replayed.
/// </summary>
/// <remarks>
/// BEP 3 and 6 put the whole-set messages first, but widely used clients send a whole BITFIELD again mid-connection
/// when it is shorter than the HAVEs it stands for, and libtorrent accepts that: the new set replaces the old one. So
/// does Shoal: the picker forgets the counts of the old set and adds those of the new one, so rarest-first stays right.
/// </remarks>
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

    /// <summary>BITFIELD, HAVE ALL or HAVE NONE, first or later: the peer's new piece set.</summary>
    public void OnAnnouncement(PeerConnection peer, MessageId id, byte[]? bitfield)
    {
        if (id != MessageId.Bitfield && !peer.SupportsFast)
        {
            peer.Close($"sent {id} without the fast extension");
            return;
        }
        if (torrent.Picker is null)
        {
            ReplaceEarly(peer.Early ??= new EarlyAvailability(), id, bitfield);
            return;
        }
        try
        {
            if (Replace(peer.Has, torrent.Picker, id, bitfield)) requester.DropRequestsForPiecesGone(peer);
        }
        catch (ShoalFormatException ex)
        {
            peer.Close("bad bitfield: " + ex.Message);
            return;
        }
        requester.UpdateInterest(peer);
        CloseIfBothSeeds(peer);
    }

    /// <summary>
    /// Replaces a peer's piece set <paramref name="has"/> (registered with <paramref name="picker"/>) with what the message
    /// says and moves the picker's counts with it. Spare bits of a bitfield are ignored (cleared), as libtorrent does.
    /// Throws <see cref="ShoalFormatException"/> when a bitfield has the wrong length (the peer describes another
    /// torrent): nothing is changed then. Returns true when the peer no longer has a piece it had (its requests for
    /// those must be dropped).
    /// </summary>
    public static bool Replace(BitField has, PiecePicker picker, MessageId message, byte[]? bitfield)
    {
        BitField? previous = null;
        if (!has.NoneSet)
        {
            previous = new BitField(has.Length);
            previous.CopyFrom(has);
        }
        switch (message)
        {
            case MessageId.Bitfield:
                // Validate before touching anything: a bad bitfield must not leave the picker half updated.
                if (bitfield is null || bitfield.Length != has.Bytes.Length)
                    throw new ShoalFormatException($"bitfield is {bitfield?.Length ?? 0} bytes, expected {has.Bytes.Length}");
                picker.RemovePeer(has);
                has.LoadFromIgnoringSpareBits(bitfield);
                break;
            case MessageId.HaveAll:
                picker.RemovePeer(has);
                has.SetAll();
                break;
            case MessageId.HaveNone:
                picker.RemovePeer(has);
                has.ClearAll();
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(message), message, "not an availability message");
        }
        picker.AddPeer(has);
        return previous is not null && has.HasAnyMissingFrom(previous);
    }

    /// <summary>The same, before the picker exists: the latest set replaces what was kept.</summary>
    public static void ReplaceEarly(EarlyAvailability early, MessageId message, byte[]? bitfield)
    {
        early.Haves.Clear();
        early.Bitfield = message == MessageId.Bitfield ? bitfield : null;
        early.HasAll = message == MessageId.HaveAll;
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
            if (early?.Bitfield is { } bits) peer.Has.LoadFromIgnoringSpareBits(bits);
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

    /// <summary>
    /// A piece verified (downloaded, or found by the data check): HAVE to the peers without it; the ones with it may no
    /// longer interest us. A peer joined before the piece count was known hears everything once it is sized.
    /// </summary>
    public void OnPieceVerified(int piece)
    {
        bool shareable = torrent.IsShareable(piece);
        foreach (PeerConnection peer in torrent.Peers.All)
        {
            if (peer.Has.Length != torrent.Have.Length) continue;
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
