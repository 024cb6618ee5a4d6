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

    // Created on the first failed piece: most torrents never see one, and a concurrent dictionary costs ~1 KiB empty.
    private ConcurrentDictionary<int, byte[][]>? _failed;
    private ConcurrentDictionary<int, int[]>? _corrupt;

    /// <summary>True when a failed attempt of <paramref name="piece"/> was recorded.</summary>
    public bool HasFailure(int piece) => Volatile.Read(ref _failed)?.ContainsKey(piece) == true;

    /// <summary>Remembers what each block of a failed attempt looked like.</summary>
    public void OnFailed(int piece, ReadOnlySpan<byte> data)
    {
        ConcurrentDictionary<int, byte[][]> failed = Volatile.Read(ref _failed) ?? Create(ref _failed);
        if (failed.Count < MaxFailedPiecesTracked) failed[piece] = Digests(data);
    }

    private static ConcurrentDictionary<int, T> Create<T>(ref ConcurrentDictionary<int, T>? field) =>
        Interlocked.CompareExchange(ref field, new ConcurrentDictionary<int, T>(), null) ?? field!;

    /// <summary>The piece verified with <paramref name="data"/>: if an attempt failed before, find the blocks that differed.</summary>
    public void OnVerified(int piece, ReadOnlySpan<byte> data)
    {
        if (Volatile.Read(ref _failed) is not { IsEmpty: false } all || !all.TryRemove(piece, out byte[][]? failed)) return;
        byte[][] good = Digests(data);
        var differing = new List<int>();
        for (int i = 0; i < good.Length && i < failed.Length; i++)
            if (!good[i].AsSpan().SequenceEqual(failed[i])) differing.Add(i);
        (Volatile.Read(ref _corrupt) ?? Create(ref _corrupt))[piece] = [.. differing];
    }

    /// <summary>The blocks found corrupt for <paramref name="piece"/>, given out once; null when unknown.</summary>
    public int[]? Take(int piece) => Volatile.Read(ref _corrupt) is { } corrupt && corrupt.TryRemove(piece, out int[]? blocks) ? blocks : null;

    private static byte[][] Digests(ReadOnlySpan<byte> piece)
    {
        var digests = new byte[(piece.Length + BlockLength - 1) / BlockLength][];
        for (int i = 0; i < digests.Length; i++)
            digests[i] = SHA256.HashData(piece.Slice(i * BlockLength, Math.Min(BlockLength, piece.Length - i * BlockLength)));
        return digests;
    }
}
