namespace Shoal.Storage;

/// <summary>
/// What a torrent's disk path tells its owner (the torrent actor) about queued writes, from the disk service's
/// workers. Implementations must return at once (post to a mailbox) and never lose a verdict.
/// </summary>
internal interface IDiskEvents
{
    /// <summary>Piece <paramref name="piece"/> is complete: verified and written, or failed its hash check and dropped.</summary>
    void OnPieceHashed(int piece, bool verified);

    /// <summary>A write of piece <paramref name="piece"/> failed; its blocks were dropped.</summary>
    void OnWriteFailed(int piece, Exception error);

    /// <summary>The queued writes fell back to the low-water mark after <see cref="ITorrentDisk.IsBacklogged"/> said true.</summary>
    void OnWriteBacklogDrained();
}
