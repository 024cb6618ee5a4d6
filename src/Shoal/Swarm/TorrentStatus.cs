namespace Shoal.Swarm;

/// <summary>A cheap snapshot of one torrent, taken by the torrent's actor.</summary>
/// <param name="State">What the torrent is doing.</param>
/// <param name="Progress">Verified share of the wanted data, 0..1.</param>
/// <param name="TotalSize">Bytes of content.</param>
/// <param name="VerifiedBytes">Bytes of verified pieces.</param>
/// <param name="Downloaded">Payload bytes received this run (including any later discarded).</param>
/// <param name="Uploaded">Payload bytes sent this run.</param>
/// <param name="DownloadRate">Payload bytes per second received, smoothed.</param>
/// <param name="UploadRate">Payload bytes per second sent, smoothed.</param>
/// <param name="Peers">Connected peers that completed the handshake.</param>
/// <param name="Seeds">Of those, peers that have every piece.</param>
/// <param name="VerifiedPieces">Pieces verified.</param>
/// <param name="PieceCount">Pieces in the torrent.</param>
/// <param name="FailedPieces">Pieces that failed their hash check this run.</param>
/// <param name="Error">Why the torrent stopped, when <paramref name="State"/> is <see cref="TorrentState.Error"/>.</param>
/// <param name="Sources">Where the connected peers came from; null reads as none.</param>
/// <param name="EncryptedPeers">Of the connected peers, those whose connection ran the MSE/PE handshake (RC4 or obfuscated).</param>
/// <param name="CheckedPieces">Pieces of the data check done so far (of <paramref name="PieceCount"/>), while <paramref name="State"/> is <see cref="TorrentState.Checking"/>.</param>
/// <param name="Search">While no peer is connected: what was tried to find one; null otherwise.</param>
public sealed record TorrentStatus(
    TorrentState State,
    double Progress,
    long TotalSize,
    long VerifiedBytes,
    long Downloaded,
    long Uploaded,
    long DownloadRate,
    long UploadRate,
    int Peers,
    int Seeds,
    int VerifiedPieces,
    int PieceCount,
    int FailedPieces,
    string? Error,
    PeerSourceCounts? Sources = null,
    int EncryptedPeers = 0,
    int CheckedPieces = 0,
    PeerSearch? Search = null)
{
    /// <summary>The torrent's web seeds (BEP 19/17) by state; null reads as none (see <see cref="TorrentHandle.GetWebSeeds"/> for each).</summary>
    public WebSeeds.WebSeedCounts? WebSeeds { get; init; }

    /// <summary>
    /// Connected peers and this run's payload bytes by transport (TCP, uTP); null reads as none. A property, not a
    /// parameter: the 0.1.0 constructor stays.
    /// </summary>
    public TransportCounts? Transports { get; init; }

    /// <summary>Estimated time to completion at the current rate, or null when unknown or done.</summary>
    public TimeSpan? Eta => State == TorrentState.Downloading && DownloadRate > 0 && TotalSize > VerifiedBytes
        ? TimeSpan.FromSeconds((double)(TotalSize - VerifiedBytes) / DownloadRate)
        : null;
}
