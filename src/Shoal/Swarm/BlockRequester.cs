using Shoal.Picking;
using Shoal.Wire;

namespace Shoal.Swarm;

/// <summary>
/// What we ask peers for: interest, the request pipeline of each peer (sized by its rate, one block at a time
/// when it snubs us), BEP 6 allowed-fast pieces, rejects and chokes, and the endgame's cancels. The picker decides
/// which blocks; this decides when and from whom. Single-threaded (the torrent actor drives it).
/// </summary>
internal sealed class BlockRequester(TorrentContext torrent)
{
    /// <summary>Most allowed-fast pieces (BEP 6) remembered per peer.</summary>
    public const int MaxAllowedFast = 32;

    /// <summary>Most requests picked for one peer at once.</summary>
    private const int MaxPickBatch = 512;

    /// <summary>Blocks a peer may send unasked before it is dropped.</summary>
    private const int MaxUnexpectedBlocks = 64;

    /// <summary>Most dropped requests whose blocks may still arrive without counting as unexpected (16 MiB of 16 KiB blocks).</summary>
    private const int MaxLateBlocksExpected = 1024;

    private static readonly TimeSpan SnubTimeout = TimeSpan.FromSeconds(30);

    private readonly List<int> _cancelScratch = [];

    /// <summary>Tells the peer whether we want something it has, and starts asking when we do.</summary>
    public void UpdateInterest(PeerConnection peer)
    {
        bool interesting = torrent.State == TorrentState.Downloading && torrent.Picker!.IsInteresting(peer.Has);
        if (interesting && !peer.AmInterested)
        {
            peer.AmInterested = true;
            peer.Send(new OutboundMessage(MessageId.Interested));
            RequestMore(peer);
        }
        else if (!interesting && peer.AmInterested)
        {
            peer.AmInterested = false;
            peer.Send(new OutboundMessage(MessageId.NotInterested));
        }
    }

    /// <summary>Tops up the peer's request pipeline, unless the disk is behind (then the write queue's drain resumes it).</summary>
    public void RequestMore(PeerConnection peer)
    {
        if (!peer.AmInterested || torrent.State != TorrentState.Downloading) return;
        if (torrent.Storage!.IsBacklogged) return;
        bool viaAllowedFast = peer.PeerChoking;
        if (viaAllowedFast && peer.AllowedFast.Count == 0) return;

        int depth = peer.IsSnubbed ? 1 : RequestQueue.Depth(peer.DownloadMeter.BytesPerSecond);
        int need = Math.Min(depth - peer.Outstanding.Count, MaxPickBatch);
        if (need <= 0) return;
        Span<BlockRequest> picks = stackalloc BlockRequest[need];
        PiecePicker picker = torrent.Picker!;
        int count = viaAllowedFast
            ? picker.PickAllowedFast(peer.Key, peer.Has, peer.AllowedFast, picks)
            : picker.PickBlocks(peer.Key, peer.Has, picks);
        if (count > 0 && peer.Outstanding.Count == 0) peer.LastBlockAt = torrent.Now();
        for (int i = 0; i < count; i++)
        {
            BlockRequest request = picks[i];
            peer.Outstanding.Add(request);
            peer.Send(new OutboundMessage(MessageId.Request, request.Piece, request.Offset, request.Length));
        }
    }

    /// <summary>Tops up every peer (after the disk caught up, or a pause ended).</summary>
    public void RequestFromAll()
    {
        foreach (PeerConnection peer in torrent.Peers.All) RequestMore(peer);
    }

    /// <summary>Gives the peer's outstanding requests back to the picker (they go to others).</summary>
    public void DropAllRequests(PeerConnection peer)
    {
        if (peer.Outstanding.Count == 0) return;
        foreach (BlockRequest request in peer.Outstanding) torrent.Picker?.OnRequestDropped(peer.Key, request);
        // Blocks already on their way (a choke voids requests without BEP 6; a snubbed peer may wake up) are
        // late, not unasked for: they must not count towards dropping the peer.
        ExpectLateBlocks(peer, peer.Outstanding.Count);
        peer.Outstanding.Clear();
    }

    /// <summary>Cancels everything asked of the peer (the blocks may still come; they are not held against it).</summary>
    public void CancelAll(PeerConnection peer)
    {
        foreach (BlockRequest request in peer.Outstanding)
            peer.Send(new OutboundMessage(MessageId.Cancel, request.Piece, request.Offset, request.Length));
        DropAllRequests(peer);
    }

    /// <summary>The peer no longer claims some pieces: our requests for them go back to the picker (and are cancelled).</summary>
    public void DropRequestsForPiecesGone(PeerConnection peer)
    {
        foreach (BlockRequest request in peer.Outstanding)
        {
            if (peer.Has[request.Piece]) continue;
            torrent.Picker?.OnRequestDropped(peer.Key, request);
            peer.Send(new OutboundMessage(MessageId.Cancel, request.Piece, request.Offset, request.Length));
            ExpectLateBlocks(peer, 1);
        }
        peer.Outstanding.RemoveWhere(request => !peer.Has[request.Piece]);
    }

    private static void ExpectLateBlocks(PeerConnection peer, int count)
        => peer.CancelledInFlight = Math.Min(MaxLateBlocksExpected, peer.CancelledInFlight + count);

    public void OnChoke(PeerConnection peer)
    {
        peer.PeerChoking = true;
        // Without BEP 6 a choke silently voids every pending request; with it, the peer rejects each one
        // explicitly, so they stay outstanding until then.
        if (!peer.SupportsFast) DropAllRequests(peer);
    }

    public void OnUnchoke(PeerConnection peer)
    {
        peer.PeerChoking = false;
        peer.LastBlockAt = torrent.Now();
        RequestMore(peer);
    }

    public void OnReject(PeerConnection peer, BlockRequest rejected)
    {
        if (peer.Outstanding.Remove(rejected)) torrent.Picker?.OnRequestDropped(peer.Key, rejected);
    }

    public void OnAllowedFast(PeerConnection peer, int piece)
    {
        // Out of range (or unknown before the metadata): ignored, as libtorrent does, so it takes no slot.
        if (piece < 0 || (torrent.Picker is { } picker && piece >= picker.PieceCount)) return;
        if (peer.AllowedFast.Count >= MaxAllowedFast || peer.AllowedFast.Contains(piece)) return;
        peer.AllowedFast.Add(piece);
        if (peer.PeerChoking) RequestMore(peer);
    }

    /// <summary>
    /// A block arrived. False when it is not wanted (not asked for, asked and then cancelled, or already received
    /// from someone else); a peer that keeps sending blocks nobody asked for is dropped. When it is wanted, the
    /// other peers it was also asked of (endgame) get a CANCEL.
    /// </summary>
    public bool OnBlock(PeerConnection peer, BlockRequest block)
    {
        peer.Downloaded += block.Length;
        torrent.Downloaded += block.Length;
        if (!peer.Outstanding.Remove(block))
        {
            if (peer.CancelledInFlight > 0) peer.CancelledInFlight--;
            else if (++peer.UnexpectedBlocks > MaxUnexpectedBlocks) peer.Close("sent blocks nobody asked for");
            return false;
        }
        peer.LastBlockAt = torrent.Now();
        peer.IsSnubbed = false;

        _cancelScratch.Clear();
        bool wanted = torrent.Picker is { } picker && picker.OnBlockReceived(peer.Key, block, _cancelScratch);
        CancelDuplicates(block, _cancelScratch);
        return wanted;
    }

    /// <summary>
    /// A block arrived from one source: the peers among <paramref name="otherKeys"/> that were also asked for it
    /// (endgame) get a CANCEL. Other keys (web seeds) are skipped: their runs carry on.
    /// </summary>
    public void CancelDuplicates(BlockRequest block, List<int> otherKeys)
    {
        foreach (int otherKey in otherKeys)
        {
            if (torrent.Peers.TryGet(otherKey, out PeerConnection other) && other.Outstanding.Remove(block))
            {
                ExpectLateBlocks(other, 1);
                other.Send(new OutboundMessage(MessageId.Cancel, block.Piece, block.Offset, block.Length));
            }
        }
    }

    /// <summary>The download is over: no more interest, nothing outstanding.</summary>
    public void StopDownloading(PeerConnection peer)
    {
        if (peer.AmInterested)
        {
            peer.AmInterested = false;
            peer.Send(new OutboundMessage(MessageId.NotInterested));
        }
        DropAllRequests(peer);
    }

    /// <summary>A peer left: the picker forgets what it had and what it was asked for.</summary>
    public void OnPeerGone(PeerConnection peer)
    {
        peer.Outstanding.Clear();
        torrent.Picker?.ForgetPeer(peer.Key);
        torrent.Picker?.RemovePeer(peer.Has);
    }

    /// <summary>A peer that sits on our requests is snubbed: its requests go to others, and it gets one at a time.</summary>
    public void CheckSnub(PeerConnection peer, long now)
    {
        if (peer.Outstanding.Count == 0 || peer.IsSnubbed || torrent.Time.GetElapsedTime(peer.LastBlockAt, now) <= SnubTimeout) return;
        peer.IsSnubbed = true;
        DropAllRequests(peer);
        torrent.Log($"peer {peer.EndPoint} snubbed us");
    }
}
