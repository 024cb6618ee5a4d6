namespace Shoal.Storage;

/// <summary>What <see cref="TorrentStorage.WriteBlockAsync"/> did with a block.</summary>
public enum BlockWriteResult
{
    /// <summary>Written (or queued for hashing); the piece is not complete yet.</summary>
    Stored,

    /// <summary>This block completed its piece and the piece matched its SHA-1 hash.</summary>
    PieceVerified,

    /// <summary>This block completed its piece and the hash did not match; the piece was reset so it can be downloaded again.</summary>
    PieceFailed,

    /// <summary>The range was already received (endgame duplicate), the piece is already verified, or the piece was reset meanwhile. Nothing was written.</summary>
    Ignored,
}
