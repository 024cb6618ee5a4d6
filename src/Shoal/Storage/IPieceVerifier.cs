namespace Shoal.Storage;

/// <summary>
/// Decides whether a piece's bytes are the torrent's: the one place that knows how a torrent hashes its data.
/// BitTorrent v1 hashes each piece with SHA-1 (<see cref="Sha1PieceVerifier"/>); v2 (BEP 52) hashes 16 KiB blocks
/// with SHA-256 into a merkle tree per file, and <see cref="MerklePieceVerifier"/> checks a piece against the tree's piece layer.
/// Implementations are immutable and thread-safe; the hashers they create are not (one per piece in progress).
/// </summary>
public interface IPieceVerifier
{
    /// <summary>Number of pieces the verifier knows hashes for.</summary>
    int PieceCount { get; }

    /// <summary>A new reusable incremental hasher: fed a piece's bytes in order, it tells whether they match.</summary>
    PieceHasher CreateHasher();

    /// <summary>True when <paramref name="data"/> is exactly piece <paramref name="piece"/> (the whole piece, in memory).</summary>
    bool VerifyPiece(int piece, ReadOnlySpan<byte> data);
}

/// <summary>
/// Hashes one piece at a time as its bytes arrive in order, then compares the result with the piece's expected
/// hash. Reusable: <see cref="Finish"/> and <see cref="Reset"/> leave it ready for the next piece, so a piece in
/// progress costs no allocation. Not thread-safe.
/// </summary>
public abstract class PieceHasher : IDisposable
{
    /// <summary>
    /// Says which piece the next bytes belong to; called before the first <see cref="Append"/> of each piece (again
    /// after a <see cref="Reset"/> is harmless). A v2 hasher needs it to know where the file's bytes end in the piece.
    /// </summary>
    public virtual void Begin(int piece)
    {
    }

    /// <summary>Feeds the next bytes of the piece.</summary>
    public abstract void Append(ReadOnlySpan<byte> data);

    /// <summary>Ends the piece: true when everything appended is piece <paramref name="piece"/>. Resets the hasher.</summary>
    public abstract bool Finish(int piece);

    /// <summary>Discards what was appended (the piece starts over).</summary>
    public abstract void Reset();

    /// <inheritdoc />
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases the hash state.</summary>
    protected virtual void Dispose(bool disposing)
    {
    }
}
