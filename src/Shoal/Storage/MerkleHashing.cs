using System.Security.Cryptography;
using Shoal.Metainfo;

namespace Shoal.Storage;

/// <summary>The SHA-256 arithmetic the v2 verifier needs on its hot path, without allocating.</summary>
internal static class MerkleHashing
{
    private const int HashSize = Sha256Hash.Length;

    /// <summary>Hashes each 16 KiB block of <paramref name="data"/> (the last may be shorter) into <paramref name="leaves"/>; returns the number of blocks.</summary>
    public static int HashBlocks(ReadOnlySpan<byte> data, Span<byte> leaves)
    {
        int blocks = (data.Length + MerkleTree.BlockSize - 1) / MerkleTree.BlockSize;
        for (int b = 0; b < blocks; b++)
        {
            int start = b * MerkleTree.BlockSize;
            SHA256.HashData(data.Slice(start, Math.Min(MerkleTree.BlockSize, data.Length - start)), leaves.Slice(b * HashSize, HashSize));
        }
        return blocks;
    }

    /// <summary>
    /// Reduces <paramref name="width"/> hashes (a power of two) at the start of <paramref name="buffer"/> to their root,
    /// in place: the root ends up in the first 32 bytes.
    /// </summary>
    public static void ReduceInPlace(Span<byte> buffer, int width)
    {
        Span<byte> pair = stackalloc byte[2 * HashSize];
        for (int count = width; count > 1; count /= 2)
        {
            for (int i = 0; i < count / 2; i++)
            {
                buffer.Slice(2 * i * HashSize, 2 * HashSize).CopyTo(pair);
                SHA256.HashData(pair, buffer.Slice(i * HashSize, HashSize));
            }
        }
    }

    /// <summary>
    /// The hash of a piece from its block hashes: padded with zero hashes to a whole piece, or, in a file smaller
    /// than one piece, to the next power of two. <paramref name="scratch"/> holds at least a piece's worth of hashes.
    /// </summary>
    public static void PieceRoot(ReadOnlySpan<byte> blockHashes, int leavesPerPiece, bool fileSmallerThanPiece, Span<byte> scratch, Span<byte> root)
    {
        int blocks = blockHashes.Length / HashSize;
        int width = fileSmallerThanPiece ? (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)blocks) : leavesPerPiece;
        blockHashes.CopyTo(scratch);
        scratch.Slice(blockHashes.Length, (width - blocks) * HashSize).Clear();
        ReduceInPlace(scratch, width);
        scratch[..HashSize].CopyTo(root);
    }
}
