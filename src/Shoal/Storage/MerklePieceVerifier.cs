using System.Collections.Concurrent;
using System.Security.Cryptography;
using Shoal.Metainfo;

namespace Shoal.Storage;

/// <summary>
/// BitTorrent v2 verification (BEP 52): each 16 KiB block of a piece is hashed with SHA-256 as it arrives, the block
/// hashes are combined into the piece's merkle subtree, and its root must equal the piece's hash in the file's piece
/// layer (<see cref="FileHashTrees"/>). A hybrid torrent's pieces must match their SHA-1 hash too (BEP 52's upgrade
/// path: a mismatch between the two halves fails the piece). The block hashes of a verified piece are kept, to serve
/// peers' hash requests; those of a failed attempt are kept for a while, so the blocks that were wrong can be named
/// as soon as the right block hashes are known (<see cref="FindCorruptBlocks"/>): smart ban without downloading the
/// piece again.
/// </summary>
/// <remarks>
/// Thread-safe. A piece whose file's piece layer is still unknown (a magnet link before the layers arrive) fails in a
/// v2-only torrent (nothing can vouch for it) and is judged by SHA-1 alone in a hybrid.
/// </remarks>
public sealed class MerklePieceVerifier : IPieceVerifier
{
    /// <summary>Most failed attempts whose block hashes are kept for smart ban.</summary>
    public const int MaxFailedPiecesTracked = 256;

    private const int HashSize = Sha256Hash.Length;

    private readonly Sha1PieceVerifier? _sha1;
    private readonly ConcurrentDictionary<int, byte[]> _failed = new();

    /// <summary>Verifies against <paramref name="trees"/>, and against SHA-1 hashes too when <paramref name="sha1"/> is given (a hybrid).</summary>
    public MerklePieceVerifier(FileHashTrees trees, Sha1PieceVerifier? sha1 = null)
    {
        ArgumentNullException.ThrowIfNull(trees);
        if (sha1 is not null && sha1.PieceCount != trees.PieceCount)
            throw new ArgumentException($"the SHA-1 hashes cover {sha1.PieceCount} pieces, the trees {trees.PieceCount}", nameof(sha1));
        Trees = trees;
        _sha1 = sha1;
        LeavesPerPiece = 1 << trees.PieceLayer;
    }

    /// <summary>The torrent's merkle trees: what is known, and what peers may ask for.</summary>
    public FileHashTrees Trees { get; }

    /// <summary>True for a hybrid torrent: pieces are checked against SHA-1 as well.</summary>
    public bool ChecksSha1 => _sha1 is not null;

    /// <inheritdoc />
    public int PieceCount => Trees.PieceCount;

    private int LeavesPerPiece { get; }

    /// <inheritdoc />
    public PieceHasher CreateHasher() => new MerkleHasher(this);

    /// <inheritdoc />
    public bool VerifyPiece(int piece, ReadOnlySpan<byte> data)
    {
        if (_sha1 is not null && !_sha1.VerifyPiece(piece, data)) return false;
        int hashed = Trees.GetHashedLength(piece);
        if (hashed == 0) return _sha1 is not null; // padding alone: only SHA-1 covers it
        if (hashed > data.Length) return false;
        byte[] leaves = System.Buffers.ArrayPool<byte>.Shared.Rent(2 * LeavesPerPiece * HashSize);
        try
        {
            int blocks = MerkleHashing.HashBlocks(data[..hashed], leaves);
            return Judge(piece, leaves.AsSpan(0, blocks * HashSize), leaves.AsSpan(LeavesPerPiece * HashSize, LeavesPerPiece * HashSize), sha1Ok: true);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(leaves);
        }
    }

    /// <summary>
    /// Smart ban: given the right block hashes of <paramref name="piece"/> (proved by a peer's answer), the blocks of
    /// its last failed attempt that were wrong; null when no failed attempt is remembered.
    /// </summary>
    public int[]? FindCorruptBlocks(int piece, ReadOnlySpan<byte> rightBlockHashes)
    {
        if (!_failed.TryRemove(piece, out byte[]? attempt)) return null;
        var wrong = new List<int>();
        int blocks = Math.Min(attempt.Length, rightBlockHashes.Length) / HashSize;
        for (int b = 0; b < blocks; b++)
            if (!attempt.AsSpan(b * HashSize, HashSize).SequenceEqual(rightBlockHashes.Slice(b * HashSize, HashSize))) wrong.Add(b);
        return [.. wrong];
    }

    /// <summary>True when a failed attempt of <paramref name="piece"/> is remembered (its bad blocks can be named once the right hashes arrive).</summary>
    public bool HasFailedAttempt(int piece) => _failed.ContainsKey(piece);

    /// <summary>Compares the block hashes of a complete piece with what is expected; records them on success, remembers them on failure.</summary>
    private bool Judge(int piece, ReadOnlySpan<byte> blockHashes, Span<byte> scratch, bool sha1Ok)
    {
        if (!sha1Ok) return Fail(piece, blockHashes);
        Span<byte> expected = stackalloc byte[HashSize];
        if (!Trees.TryGetPieceHash(piece, expected)) return _sha1 is not null; // layer unknown: a hybrid's SHA-1 decides
        Span<byte> root = stackalloc byte[HashSize];
        MerkleHashing.PieceRoot(blockHashes, LeavesPerPiece, Trees.GetFileLength(piece) < Trees.PieceLength, scratch, root);
        if (!root.SequenceEqual(expected)) return Fail(piece, blockHashes);
        Trees.RecordBlockHashes(piece, blockHashes);
        return true;
    }

    private bool Fail(int piece, ReadOnlySpan<byte> blockHashes)
    {
        if (_failed.Count < MaxFailedPiecesTracked || _failed.ContainsKey(piece)) _failed[piece] = blockHashes.ToArray();
        return false;
    }

    /// <summary>
    /// Hashes a piece as its bytes arrive: SHA-1 over everything (hybrid), SHA-256 over each 16 KiB block of the file's
    /// bytes, block by block, so no block is held back and nothing is hashed twice.
    /// </summary>
    private sealed class MerkleHasher : PieceHasher
    {
        private readonly MerklePieceVerifier _owner;
        private readonly IncrementalHash _block = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private readonly IncrementalHash? _sha1;
        private readonly byte[] _leaves;
        private readonly byte[] _scratch;
        private int _piece = -1;
        private int _hashedLength;
        private int _position; // bytes of the piece appended so far
        private int _inBlock;  // bytes of the current block appended to _block
        private int _blocks;   // block hashes complete

        public MerkleHasher(MerklePieceVerifier owner)
        {
            _owner = owner;
            _sha1 = owner._sha1 is null ? null : IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
            _leaves = new byte[owner.LeavesPerPiece * HashSize];
            _scratch = new byte[owner.LeavesPerPiece * HashSize];
        }

        public override void Begin(int piece)
        {
            if (piece == _piece && _position == 0) return;
            Reset();
            _piece = piece;
            _hashedLength = _owner.Trees.GetHashedLength(piece);
        }

        public override void Append(ReadOnlySpan<byte> data)
        {
            if (_piece < 0) throw new InvalidOperationException("Begin(piece) must come before the piece's bytes");
            _sha1?.AppendData(data);
            int take = Math.Max(0, Math.Min(data.Length, _hashedLength - _position));
            ReadOnlySpan<byte> tree = data[..take];
            _position += data.Length;
            while (!tree.IsEmpty)
            {
                int n = Math.Min(tree.Length, MerkleTree.BlockSize - _inBlock);
                if (n == MerkleTree.BlockSize)
                {
                    SHA256.HashData(tree[..n], _leaves.AsSpan(_blocks++ * HashSize, HashSize)); // a whole block at once: no incremental state
                }
                else
                {
                    _block.AppendData(tree[..n]);
                    _inBlock += n;
                    if (_inBlock == MerkleTree.BlockSize) EndBlock();
                }
                tree = tree[n..];
            }
        }

        public override bool Finish(int piece)
        {
            if (piece != _piece) throw new InvalidOperationException($"hashed piece {_piece}, asked about piece {piece}");
            bool sha1Ok = true;
            if (_sha1 is not null)
            {
                Span<byte> digest = stackalloc byte[Sha1PieceVerifier.HashSize];
                _sha1.TryGetHashAndReset(digest, out _);
                sha1Ok = digest.SequenceEqual(_owner._sha1!.GetPieceHash(piece));
            }
            bool ok;
            if (_hashedLength == 0)
            {
                ok = sha1Ok && _sha1 is not null;
            }
            else
            {
                if (_inBlock > 0) EndBlock();
                ok = _position >= _hashedLength && _owner.Judge(piece, _leaves.AsSpan(0, _blocks * HashSize), _scratch, sha1Ok);
            }
            Clear();
            return ok;
        }

        public override void Reset()
        {
            if (_sha1 is not null)
            {
                Span<byte> discard = stackalloc byte[Sha1PieceVerifier.HashSize];
                _sha1.TryGetHashAndReset(discard, out _);
            }
            Clear();
        }

        private void Clear()
        {
            if (_inBlock > 0)
            {
                Span<byte> discard = stackalloc byte[HashSize];
                _block.TryGetHashAndReset(discard, out _);
            }
            _position = 0;
            _inBlock = 0;
            _blocks = 0;
        }

        private void EndBlock()
        {
            _block.TryGetHashAndReset(_leaves.AsSpan(_blocks++ * HashSize, HashSize), out _);
            _inBlock = 0;
        }

        protected override void Dispose(bool disposing)
        {
            if (!disposing) return;
            _block.Dispose();
            _sha1?.Dispose();
        }
    }
}
