using System.Security.Cryptography;
using Shoal.Metainfo;

namespace Shoal.Storage;

/// <summary>BitTorrent v1 verification: each piece's SHA-1 against the 20-byte hashes of the info dictionary's "pieces".</summary>
public sealed class Sha1PieceVerifier : IPieceVerifier
{
    /// <summary>Bytes of one SHA-1 piece hash.</summary>
    public const int HashSize = 20;

    private readonly ReadOnlyMemory<byte> _hashes;

    /// <summary>
    /// Verifies <paramref name="pieceCount"/> pieces against <paramref name="pieceHashes"/>, their concatenated SHA-1
    /// hashes. Throws <see cref="ShoalFormatException"/> when the hash list does not have one hash per piece.
    /// </summary>
    public Sha1PieceVerifier(ReadOnlyMemory<byte> pieceHashes, int pieceCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pieceCount);
        if ((long)pieceCount * HashSize != pieceHashes.Length)
            throw new ShoalFormatException($"piece hashes are {pieceHashes.Length} bytes, expected {(long)pieceCount * HashSize} for {pieceCount} pieces");
        _hashes = pieceHashes;
        PieceCount = pieceCount;
    }

    /// <summary>
    /// The verifier of a parsed v1 or hybrid torrent (a hybrid's v1 half). Throws <see cref="MetainfoException"/> for a
    /// v2-only torrent: its pieces are checked against SHA-256 merkle trees, which need a v2 verifier.
    /// </summary>
    public static Sha1PieceVerifier For(Torrent torrent)
    {
        ArgumentNullException.ThrowIfNull(torrent);
        if (!torrent.HasV1)
            throw new MetainfoException($"'{torrent.Name}' is a v2-only torrent (BEP 52): it has no SHA-1 piece hashes (see PieceVerifiers.For)");
        return new Sha1PieceVerifier(torrent.PieceHashes, torrent.PieceCount);
    }

    /// <inheritdoc />
    public int PieceCount { get; }

    /// <summary>The expected hash of one piece.</summary>
    public ReadOnlySpan<byte> GetPieceHash(int piece)
    {
        if ((uint)piece >= (uint)PieceCount) throw new ArgumentOutOfRangeException(nameof(piece), $"piece {piece} is outside [0, {PieceCount})");
        return _hashes.Span.Slice(piece * HashSize, HashSize);
    }

    /// <inheritdoc />
    public PieceHasher CreateHasher() => new Sha1Hasher(this);

    /// <inheritdoc />
    public bool VerifyPiece(int piece, ReadOnlySpan<byte> data)
    {
        Span<byte> digest = stackalloc byte[HashSize];
        SHA1.HashData(data, digest);
        return digest.SequenceEqual(GetPieceHash(piece));
    }

    private sealed class Sha1Hasher(Sha1PieceVerifier owner) : PieceHasher
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);

        public override void Append(ReadOnlySpan<byte> data) => _hash.AppendData(data);

        public override bool Finish(int piece)
        {
            Span<byte> digest = stackalloc byte[HashSize];
            _hash.TryGetHashAndReset(digest, out _);
            return digest.SequenceEqual(owner.GetPieceHash(piece));
        }

        public override void Reset()
        {
            Span<byte> discard = stackalloc byte[HashSize];
            _hash.TryGetHashAndReset(discard, out _);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) _hash.Dispose();
        }
    }
}
