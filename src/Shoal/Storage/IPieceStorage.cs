namespace Shoal.Storage;

/// <summary>
/// Where one torrent's bytes live: files in a download folder today (<see cref="FileStorage"/>); anything that can
/// keep a piece's bytes by offset can take its place (memory, a database, a remote store). The disk service calls it
/// from its workers only, so blocking calls are fine, except <see cref="TryReadCached"/>, which runs on network
/// threads and must never wait for a device. Verification is not the storage's business: it never sees a hash.
/// </summary>
public interface IPieceStorage : IDisposable
{
    /// <summary>Writes piece <paramref name="piece"/> whole, once it has verified.</summary>
    /// <exception cref="StorageException">The bytes could not be stored.</exception>
    void WritePiece(int piece, ReadOnlySpan<byte> data);

    /// <summary>
    /// Writes part of a piece that has not verified yet (a piece that does not fit in the write cache is written
    /// block by block, then read back to be hashed). Only called for pieces <see cref="RequiresWholePiece"/> refuses.
    /// </summary>
    /// <exception cref="StorageException">The bytes could not be stored.</exception>
    void WriteBlock(int piece, int offset, ReadOnlySpan<byte> data);

    /// <summary>
    /// Fills <paramref name="destination"/> with the torrent's bytes from <paramref name="offset"/> in
    /// <paramref name="piece"/>; the range may run on into the following pieces (the data check reads runs of
    /// pieces in one call).
    /// </summary>
    /// <exception cref="StorageException">The bytes cannot be read; kind <see cref="StorageErrorKind.NotFound"/> when they were never stored.</exception>
    void Read(int piece, int offset, Span<byte> destination);

    /// <summary>
    /// Reads like <see cref="Read"/> only when it needs no device (data already in memory); false otherwise, and the
    /// caller then goes through a disk worker. Any thread; never blocks.
    /// </summary>
    bool TryReadCached(int piece, int offset, Span<byte> destination);

    /// <summary>
    /// True when the piece's bytes cannot be written and read back block by block before it verifies (part of it
    /// belongs to a file that is not stored): such a piece is assembled in memory and written whole.
    /// </summary>
    bool RequiresWholePiece(int piece);

    /// <summary>True when a verified piece can be read back in full, so it may be announced and uploaded.</summary>
    bool CanServe(int piece);

    /// <summary>Makes every completed write durable.</summary>
    /// <exception cref="StorageException">Something could not be made durable.</exception>
    void Flush();

    /// <summary>Forgets what it knows of the data (cached handles) and drops what is no longer needed, before a check.</summary>
    void Refresh();

    /// <summary>What each file of the layout looks like now; <see cref="ResumeFileState.Absent"/> for one that is missing or not stored.</summary>
    ResumeFileState[] InspectFiles();

    /// <summary>False when <paramref name="piece"/> cannot be in storage at all given <paramref name="files"/> (a file too short, a copy missing): the check then skips reading it.</summary>
    bool MayHold(int piece, ResumeFileState[] files);

    /// <summary>Creates what no write ever creates (zero-length files).</summary>
    void CreateEmptyFiles();
}
