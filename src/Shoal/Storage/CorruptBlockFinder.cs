using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Shoal.Storage;

/// <summary>
/// Smart ban's memory on the storage side: a digest of each <see cref="BlockLength"/> block of a buffered piece's
/// failed attempt, compared with the data once the piece verifies, to name the blocks that were wrong (the blocks a
/// lying peer sent). Bounded at <see cref="MaxFailedPiecesTracked"/> failed pieces; beyond it new failures are not
/// recorded. The digests only compare a block with itself, so any strong hash does (SHA-256, whatever the torrent's
/// own verification). Thread-safe.
/// </summary>
internal sealed class CorruptBlockFinder
{
    /// <summary>Most failed pieces whose block digests are kept.</summary>
    public const int MaxFailedPiecesTracked = 256;

    /// <summary>The block size digests are taken at (the request size every client uses).</summary>
    public const int BlockLength = 16 * 1024;

    private readonly ConcurrentDictionary<int, byte[][]> _failed = new();
    private readonly ConcurrentDictionary<int, int[]> _corrupt = new();

    /// <summary>True when a failed attempt of <paramref name="piece"/> was recorded.</summary>
    public bool HasFailure(int piece) => _failed.ContainsKey(piece);

    /// <summary>Remembers what each block of a failed attempt looked like.</summary>
    public void OnFailed(int piece, ReadOnlySpan<byte> data)
    {
        if (_failed.Count < MaxFailedPiecesTracked) _failed[piece] = Digests(data);
    }

    /// <summary>The piece verified with <paramref name="data"/>: if an attempt failed before, find the blocks that differed.</summary>
    public void OnVerified(int piece, ReadOnlySpan<byte> data)
    {
        if (_failed.IsEmpty || !_failed.TryRemove(piece, out byte[][]? failed)) return;
        byte[][] good = Digests(data);
        var differing = new List<int>();
        for (int i = 0; i < good.Length && i < failed.Length; i++)
            if (!good[i].AsSpan().SequenceEqual(failed[i])) differing.Add(i);
        _corrupt[piece] = [.. differing];
    }

    /// <summary>The blocks found corrupt for <paramref name="piece"/>, given out once; null when unknown.</summary>
    public int[]? Take(int piece) => _corrupt.TryRemove(piece, out int[]? blocks) ? blocks : null;

    private static byte[][] Digests(ReadOnlySpan<byte> piece)
    {
        var digests = new byte[(piece.Length + BlockLength - 1) / BlockLength][];
        for (int i = 0; i < digests.Length; i++)
            digests[i] = SHA256.HashData(piece.Slice(i * BlockLength, Math.Min(BlockLength, piece.Length - i * BlockLength)));
        return digests;
    }
}
