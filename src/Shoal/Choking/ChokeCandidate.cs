namespace Shoal.Choking;

/// <summary>One connected peer as the <see cref="Choker"/> sees it at decision time.</summary>
/// <param name="PeerKey">The caller's key for the peer (unique among the candidates of one call).</param>
/// <param name="IsInterested">The peer is interested in us (wants to download from us).</param>
/// <param name="IsChokedByUs">We currently choke the peer.</param>
/// <param name="DownloadRateFromPeer">Recent rate at which the peer sends us data, bytes/s.</param>
/// <param name="UploadRateToPeer">Recent rate at which we send the peer data, bytes/s.</param>
/// <param name="BytesUploadedToPeer">Bytes we have sent the peer (used to even out upload when seeding).</param>
/// <param name="PeerIsSeed">The peer has every piece.</param>
/// <param name="IsSnubbed">The peer has not sent us requested data for a while.</param>
/// <param name="PeerCompletion">The share of the torrent's pieces the peer has, 0 to 1 (a seed's slots go to the least complete first).</param>
public readonly record struct ChokeCandidate(
    int PeerKey,
    bool IsInterested,
    bool IsChokedByUs,
    long DownloadRateFromPeer,
    long UploadRateToPeer,
    long BytesUploadedToPeer,
    bool PeerIsSeed,
    bool IsSnubbed,
    double PeerCompletion);
