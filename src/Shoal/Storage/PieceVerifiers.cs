using Shoal.Metainfo;

namespace Shoal.Storage;

/// <summary>Chooses how a torrent's pieces are verified.</summary>
public static class PieceVerifiers
{
    /// <summary>
    /// SHA-1 pieces for a v1 torrent (<see cref="Sha1PieceVerifier"/>); SHA-256 merkle trees for a v2 torrent, and both
    /// for a hybrid (<see cref="MerklePieceVerifier"/>), with the piece layers the torrent carries.
    /// </summary>
    public static IPieceVerifier For(Torrent torrent)
    {
        ArgumentNullException.ThrowIfNull(torrent);
        if (!torrent.HasV2) return Sha1PieceVerifier.For(torrent);
        return new MerklePieceVerifier(new FileHashTrees(torrent), torrent.HasV1 ? Sha1PieceVerifier.For(torrent) : null);
    }
}
