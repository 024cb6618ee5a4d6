using Shoal.Wire;

namespace Shoal.Swarm;

/// <summary>
/// What peers ask of us: a request for a block we can share, from a peer we do not choke, is queued on its
/// connection (whose send loop reads the block from disk); anything else is rejected (BEP 6) or ignored, and a
/// peer that floods requests past its allowance is dropped.
/// </summary>
internal sealed class UploadRequests(TorrentContext torrent)
{
    /// <summary>
    /// Most requests a peer may have queued with us; past it the request is rejected (or ignored without BEP 6).
    /// We advertise it as reqq, and some clients size their pipeline by it rather than by the link: Transmission
    /// keeps at most reqq requests out and refills about once a second, so it downloads reqq x 16 KiB per second
    /// at most (measured: 500 gave exactly 8.19 MB/s, 4000 gives 65.5 MB/s). A queued request costs one 32-byte
    /// entry in the peer's send queue, not a buffer, so a deep queue is cheap.
    /// </summary>
    public const int MaxQueuedPerPeer = 4000;

    /// <summary>
    /// Requests beyond the queue cap a peer may send before it is dropped as a flooder. We advertise the cap
    /// (reqq), so an honest client stays under it; this leaves room for clients that ignore reqq but back off.
    /// The queued requests plus the rejects for these stay well inside the peer's send queue.
    /// </summary>
    private const int MaxOverflowRequests = MaxQueuedPerPeer;

    public void OnRequest(PeerConnection peer, int piece, int begin, int length)
    {
        // The wire reader passes any well-framed request on (fields that do not fit an int as -1): one we cannot
        // serve is rejected, and one a reject cannot even name is ignored, as libtorrent does; neither closes.
        bool nameable = piece >= 0 && begin >= 0 && length is > 0 and <= PeerMessageReader.MaxBlockLength;
        bool valid = nameable && torrent.Torrent is { } t && piece < torrent.Have.Length && torrent.IsShareable(piece) && (long)begin + length <= t.GetPieceSize(piece);
        bool allowed = !peer.AmChoking && peer.QueuedUploads < MaxQueuedPerPeer;
        if (valid && allowed)
        {
            peer.Send(new OutboundMessage(MessageId.Piece, piece, begin, length, peer.ChokeEpoch));
            return;
        }
        if (valid && !peer.AmChoking && ++peer.OverflowRequests > MaxOverflowRequests)
        {
            peer.Close($"flooded us with requests (more than {MaxOverflowRequests} beyond the {MaxQueuedPerPeer} it may queue)");
            return;
        }
        if (peer.SupportsFast && nameable) peer.Send(new OutboundMessage(MessageId.Reject, piece, begin, length));
    }
}
