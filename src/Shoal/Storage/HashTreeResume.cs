using Shoal.Bencoding;
using Shoal.Metainfo;

namespace Shoal.Storage;

/// <summary>
/// The merkle-tree part of a v2 or hybrid torrent's resume data (<see cref="ResumeData.HashTrees"/>): what
/// <see cref="FileHashTrees"/> learned beyond the torrent's own info dictionary, so that a restarted download neither asks
/// peers again for hashes it already had nor forgets block hashes it can serve. Kept per file, by pieces root:
/// the whole piece layer when it is known; otherwise each proved part of it together with the peer's answer (hashes and
/// uncles), so it can be proved again; and the 16 KiB block hashes of pieces that verified.
/// </summary>
/// <remarks>
/// <para>Nothing read back is trusted: a layer must hash up to its file's pieces root, a part's answer must prove up to
/// the root, and a piece's block hashes must hash up to that piece's hash in the (proved) layer. Whatever fails is
/// dropped and named in <see cref="Restored.Refused"/> (the caller logs it); the rest is used. Resume data written by a
/// hostile or broken program can therefore cost a few hash requests, never a wrong hash.</para>
/// <para>Format: a bencoded dictionary {"trees": [{"root": 32 bytes, "layer": bytes} or {"root", "parts": [{"index",
/// "length", "proof", "hashes": the answer}]}, each optionally with "verified" (one bit per piece of the file, most
/// significant bit first) and "blocks" (the block hashes of those pieces, in order)]}.</para>
/// <para>Bound: block hashes cost 32 bytes per 16 KiB (2 MiB per GiB) and resume data is written every 30 s while a
/// download runs, so at most <see cref="MaxBlockHashBytes"/> of them are kept (files in torrent order); past it, the
/// block hashes of pieces trusted from resume data are not known after a restart and a peer asking for them gets a hash
/// reject (it asks another peer). Piece layers and parts are always kept: they are what a restart cannot do without.</para>
/// </remarks>
internal static class HashTreeResume
{
    /// <summary>Most block-hash bytes kept (those of 4 GiB of data).</summary>
    public const int MaxBlockHashBytes = 8 * 1024 * 1024;

    private const int HashSize = Sha256Hash.Length;

    /// <summary>What a restore took back, and what it refused (one line per refused item, for the log).</summary>
    public sealed record Restored(int Layers, int Parts, int Pieces, IReadOnlyList<string> Refused);

    /// <summary>Encodes what <paramref name="trees"/> knows beyond its torrent's metainfo; null when that is nothing.</summary>
    public static byte[]? Capture(FileHashTrees trees)
    {
        var list = new BList();
        long blockBudget = MaxBlockHashBytes;
        for (int t = 0; t < trees.TreeCount; t++)
        {
            var entry = new BDictionary();
            entry.Set("root", new BString(trees.GetRoot(t).Span.ToArray()));
            bool learned = false;
            if (trees.GetTreePieceCount(t) > 1)
            {
                if (trees.GetPieceLayer(t) is { } layer)
                {
                    if (!trees.IsLayerInTorrent(t))
                    {
                        entry.Set("layer", new BString(layer));
                        learned = true;
                    }
                }
                else if (trees.GetLayerParts(t) is { Count: > 0 } parts)
                {
                    var encoded = new BList();
                    foreach ((HashRequest request, byte[] payload) in parts.OrderBy(p => p.Request.Index))
                    {
                        var part = new BDictionary();
                        part.Set("index", new BInteger(request.Index));
                        part.Set("length", new BInteger(request.Length));
                        part.Set("proof", new BInteger(request.ProofLayers));
                        part.Set("hashes", new BString(payload));
                        encoded.Add(part);
                    }
                    entry.Set("parts", encoded);
                    learned = true;
                }
            }
            if (CaptureBlocks(trees, t, ref blockBudget, entry)) learned = true;
            if (learned) list.Add(entry);
        }
        if (list.Count == 0) return null;
        var root = new BDictionary();
        root.Set("trees", list);
        return Bencode.Encode(root);
    }

    /// <summary>Adds the block hashes of tree <paramref name="tree"/>'s verified pieces, if any and if they fit the budget.</summary>
    private static bool CaptureBlocks(FileHashTrees trees, int tree, ref long budget, BDictionary entry)
    {
        int first = trees.GetTreeFirstPiece(tree);
        int count = trees.GetTreePieceCount(tree);
        byte[] bits = new byte[(count + 7) / 8];
        long bytes = 0;
        for (int i = 0; i < count; i++)
        {
            if (!trees.HasBlockHashes(first + i)) continue;
            bits[i >> 3] |= (byte)(0x80 >> (i & 7));
            bytes += BlockCount(trees, first + i) * (long)HashSize;
        }
        if (bytes == 0 || bytes > budget) return false;
        byte[] blocks = new byte[bytes];
        int at = 0;
        for (int i = 0; i < count; i++)
        {
            if ((bits[i >> 3] & (0x80 >> (i & 7))) == 0) continue;
            ReadOnlySpan<byte> hashes = trees.GetBlockHashes(first + i);
            if (hashes.Length != BlockCount(trees, first + i) * HashSize) return false; // forgotten meanwhile (a recheck): keep none rather than a wrong map
            hashes.CopyTo(blocks.AsSpan(at));
            at += hashes.Length;
        }
        budget -= bytes;
        entry.Set("verified", new BString(bits));
        entry.Set("blocks", new BString(blocks));
        return true;
    }

    /// <summary>
    /// Takes back into <paramref name="trees"/> what <paramref name="state"/> holds and proves: layers against their roots,
    /// parts against their roots, block hashes against their pieces' hashes. Never throws for bad content.
    /// </summary>
    public static Restored Restore(FileHashTrees trees, ReadOnlyMemory<byte> state)
    {
        var refused = new List<string>();
        int layers = 0, parts = 0, pieces = 0;
        BList list;
        try
        {
            if (Bencode.Decode(state) is not BDictionary root || !root.TryGetList("trees", out BList? entries))
                return new Restored(0, 0, 0, ["the hash-tree section is not a dictionary with a 'trees' list"]);
            list = entries;
        }
        catch (BencodeException e)
        {
            return new Restored(0, 0, 0, [$"the hash-tree section is malformed ({e.Message})"]);
        }
        foreach (BValue item in list)
        {
            try
            {
                RestoreEntry(trees, item, refused, ref layers, ref parts, ref pieces);
            }
            catch (BencodeException e)
            {
                refused.Add($"an entry of the hash-tree section is malformed ({e.Message})");
            }
        }
        return new Restored(layers, parts, pieces, refused);
    }

    private static void RestoreEntry(FileHashTrees trees, BValue item, List<string> refused, ref int layers, ref int parts, ref int pieces)
    {
        if (item is not BDictionary entry || !entry.TryGetString("root", out BString? rootBytes) || rootBytes.Length != HashSize)
        {
            refused.Add("an entry without a 32-byte 'root'");
            return;
        }
        var pieceRoot = new Sha256Hash(rootBytes.Bytes.Span);
        int t = trees.FindTree(pieceRoot);
        if (t < 0)
        {
            refused.Add($"pieces root {pieceRoot.ToHex()[..12]}… is no file of this torrent");
            return;
        }
        string file = $"file {trees.GetFileIndex(t)} (pieces root {pieceRoot.ToHex()[..12]}…)";
        if (entry.TryGetString("layer", out BString? layer))
        {
            // Known already when the torrent carries it or an earlier entry set it.
            if (trees.GetPieceLayer(t) is null)
            {
                if (trees.TrySetPieceLayer(t, layer.Bytes.Span)) layers++;
                else refused.Add($"the piece layer of {file} does not hash up to its pieces root; discarded");
            }
        }
        else if (entry.TryGetList("parts", out BList? encoded))
        {
            int bad = 0;
            foreach (BValue p in encoded)
            {
                if (trees.GetPieceLayer(t) is not null) break;
                if (IsProvedPart(trees, pieceRoot, p)) parts++;
                else bad++;
            }
            if (bad > 0) refused.Add($"{bad} part(s) of the piece layer of {file} do not prove up to its pieces root; discarded");
        }
        if (entry.TryGetString("verified", out BString? verified) && entry.TryGetString("blocks", out BString? blocks))
        {
            (int ok, string? problem) = RestoreBlocks(trees, t, verified.Bytes.Span, blocks.Bytes.Span);
            pieces += ok;
            if (problem is not null) refused.Add($"the block hashes of {file}: {problem}; discarded");
        }
    }

    /// <summary>True when <paramref name="value"/> is a well-formed part whose answer proves up to the root (it is then kept).</summary>
    private static bool IsProvedPart(FileHashTrees trees, Sha256Hash root, BValue value)
    {
        try
        {
            return value is BDictionary part && part.TryGetInteger("index", out long index) && part.TryGetInteger("length", out long length)
                && part.TryGetInteger("proof", out long proof) && part.TryGetString("hashes", out BString? hashes)
                && index is >= 0 and <= int.MaxValue && length is >= 2 and <= FileHashTrees.MaxRequestLength && proof is >= 0 and < 64
                && trees.TryAddHashes(new HashRequest(root, trees.PieceLayer, (int)index, (int)length, (int)proof), hashes.Bytes.Span) is not null;
        }
        catch (BencodeException)
        {
            return false;
        }
    }

    private static (int Restored, string? Problem) RestoreBlocks(FileHashTrees trees, int tree, ReadOnlySpan<byte> bits, ReadOnlySpan<byte> blocks)
    {
        int first = trees.GetTreeFirstPiece(tree);
        int count = trees.GetTreePieceCount(tree);
        if (bits.Length != (count + 7) / 8) return (0, $"a map of {bits.Length} bytes for {count} pieces");
        long expected = 0;
        for (int i = 0; i < count; i++)
            if ((bits[i >> 3] & (0x80 >> (i & 7))) != 0) expected += BlockCount(trees, first + i) * (long)HashSize;
        if (expected != blocks.Length) return (0, $"{blocks.Length} bytes where the map needs {expected}");
        int restored = 0, wrong = 0, at = 0;
        Span<byte> pieceHash = stackalloc byte[HashSize];
        for (int i = 0; i < count; i++)
        {
            if ((bits[i >> 3] & (0x80 >> (i & 7))) == 0) continue;
            int piece = first + i;
            int length = BlockCount(trees, piece) * HashSize;
            ReadOnlySpan<byte> hashes = blocks.Slice(at, length);
            at += length;
            if (!trees.TryGetPieceHash(piece, pieceHash)) continue; // its layer part was refused: nothing proves them, they are dropped
            Sha256Hash computed = MerkleTree.PieceHash(hashes, trees.PieceLength, trees.GetFileLength(piece));
            if (!computed.Span.SequenceEqual(pieceHash)) { wrong++; continue; }
            trees.RecordBlockHashes(piece, hashes);
            restored++;
        }
        return (restored, wrong > 0 ? $"{wrong} piece(s) whose block hashes do not hash up to the piece's hash" : null);
    }

    private static int BlockCount(FileHashTrees trees, int piece) => (trees.GetHashedLength(piece) + MerkleTree.BlockSize - 1) / MerkleTree.BlockSize;
}
