namespace Shoal.Metainfo;

/// <summary>Which BitTorrent metadata a torrent carries.</summary>
public enum TorrentVersion
{
    /// <summary>BEP 3 only: SHA-1 piece hashes over the concatenated files.</summary>
    V1 = 1,

    /// <summary>BEP 52 only (<c>meta version</c> 2): a file tree with a SHA-256 merkle root per file.</summary>
    V2 = 2,

    /// <summary>Both: one info dictionary that v1 and v2 clients read alike, with piece-aligned (padded) files.</summary>
    Hybrid = 3,
}
