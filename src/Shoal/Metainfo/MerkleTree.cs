using System.Numerics;
using System.Security.Cryptography;

namespace Shoal.Metainfo;

/// <summary>
/// The BEP 52 SHA-256 merkle tree of one file: 16 KiB blocks are the leaves (the last may be shorter), the leaf
/// layer is padded to a power of two with zero hashes, and each parent is SHA-256(left || right). Holds every
/// layer in memory (64 bytes per block: 4 MiB per GiB of file), which suits creating, checking and serving a
/// file's hashes; the static helpers work from a piece layer alone.
/// </summary>
/// <remarks>
/// Layers are numbered from the leaves: layer 0 is the leaf (block) layer, layer <see cref="Height"/> the root.
/// A piece layer is layer log2(piece length / 16 KiB). Hash requests (BEP 52 messages 21-23) name a base layer, an
/// index, a length and a number of proof layers; <see cref="GetHashes"/> answers one as libtorrent does and
/// <see cref="ComputeRoot(int, int, ReadOnlySpan{byte}, ReadOnlySpan{byte})"/> checks an answer.
/// </remarks>
public sealed class MerkleTree
{
    /// <summary>Bytes of data under one leaf.</summary>
    public const int BlockSize = 16 * 1024;

    /// <summary>Bytes of one hash.</summary>
    public const int HashSize = Sha256Hash.Length;

    /// <summary>Highest layer whose padding hash <see cref="PadHash"/> computes (a tree of 2^62 leaves is beyond any file).</summary>
    public const int MaxLayer = 62;

    private static readonly byte[][] PadHashes = BuildPadHashes();

    private readonly byte[][] _layers;

    private MerkleTree(byte[][] layers, int blockCount)
    {
        _layers = layers;
        BlockCount = blockCount;
    }

    /// <summary>Number of real (non-padding) leaves: blocks of the file, at least 1.</summary>
    public int BlockCount { get; }

    /// <summary>Leaves including padding: the smallest power of two ≥ <see cref="BlockCount"/>.</summary>
    public int LeafCount => _layers[0].Length / HashSize;

    /// <summary>Layers above the leaves (0 for a one-block file, whose root is its leaf hash).</summary>
    public int Height => _layers.Length - 1;

    /// <summary>The root: a file's <c>pieces root</c>.</summary>
    public Sha256Hash Root => new(_layers[^1]);

    /// <summary>Builds the tree of a file's contents (an empty span is refused: empty files have no tree).</summary>
    public static MerkleTree FromData(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty) throw new ArgumentException("an empty file has no merkle tree", nameof(data));
        int blocks = (int)((data.Length + (long)BlockSize - 1) / BlockSize);
        byte[] leaves = new byte[blocks * HashSize];
        for (int b = 0; b < blocks; b++)
        {
            int start = b * BlockSize;
            SHA256.HashData(data.Slice(start, Math.Min(BlockSize, data.Length - start)), leaves.AsSpan(b * HashSize, HashSize));
        }
        return FromLeafHashes(leaves);
    }

    /// <summary>Builds the tree from the hashes of a file's blocks (32 bytes each, in order, at least one).</summary>
    public static MerkleTree FromLeafHashes(ReadOnlySpan<byte> leafHashes)
    {
        if (leafHashes.IsEmpty || leafHashes.Length % HashSize != 0)
            throw new ArgumentException("leaf hashes are a non-empty multiple of 32 bytes", nameof(leafHashes));
        int blocks = leafHashes.Length / HashSize;
        int leafCount = (int)BitOperations.RoundUpToPowerOf2((uint)blocks);
        var layers = new byte[BitOperations.Log2((uint)leafCount) + 1][];
        layers[0] = new byte[leafCount * HashSize];
        leafHashes.CopyTo(layers[0]); // the rest stays zero: padding leaves
        for (int layer = 1; layer < layers.Length; layer++)
        {
            byte[] below = layers[layer - 1];
            byte[] current = new byte[below.Length / 2];
            for (int i = 0; i < current.Length / HashSize; i++)
                HashPair(below.AsSpan(2 * i * HashSize, HashSize), below.AsSpan(((2 * i) + 1) * HashSize, HashSize), current.AsSpan(i * HashSize, HashSize));
            layers[layer] = current;
        }
        return new MerkleTree(layers, blocks);
    }

    /// <summary>Every hash of layer <paramref name="layer"/> (0 = leaves), padding included.</summary>
    public ReadOnlySpan<byte> GetLayer(int layer)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(layer);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(layer, Height);
        return _layers[layer];
    }

    /// <summary>
    /// The BEP 52 piece layer for <paramref name="pieceLength"/>: one hash per piece of the file, those that cover
    /// only padding left out. For a file of one piece or less it is the root alone.
    /// </summary>
    public byte[] GetPieceLayer(int pieceLength)
    {
        int layer = PieceLayerIndex(pieceLength);
        if (layer >= Height) return Root.Span.ToArray();
        int leavesPerPiece = 1 << layer;
        int pieces = (BlockCount + leavesPerPiece - 1) / leavesPerPiece;
        return _layers[layer].AsSpan(0, pieces * HashSize).ToArray();
    }

    /// <summary>
    /// The payload of a BEP 52 'hashes' answer: <paramref name="length"/> hashes of layer <paramref name="baseLayer"/>
    /// from <paramref name="index"/>, then one uncle per proof layer above the subtree those hashes complete (the
    /// first log2(length) - 1 proof layers are implied by the hashes themselves and left out).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The request is malformed for this tree (length not a power of two ≥ 2, index not a multiple of it, out of range, too many proof layers).</exception>
    public byte[] GetHashes(int baseLayer, int index, int length, int proofLayers)
    {
        ValidateRequest(Height, baseLayer, index, length, proofLayers);
        int omitted = BitOperations.Log2((uint)length) - 1;
        int uncles = Math.Max(0, proofLayers - omitted);
        byte[] result = new byte[(length + uncles) * HashSize];
        _layers[baseLayer].AsSpan(index * HashSize, length * HashSize).CopyTo(result);
        int at = length * HashSize;
        int position = index;
        for (int i = 0; i < proofLayers; i++)
        {
            position >>= 1; // the ancestor at layer baseLayer + i + 1
            if (i < omitted) continue;
            int layer = baseLayer + i + 1;
            _layers[layer].AsSpan((position ^ 1) * HashSize, HashSize).CopyTo(result.AsSpan(at));
            at += HashSize;
        }
        return result;
    }

    /// <summary>
    /// Checks the shape of a hash request against a tree of <paramref name="height"/> layers above its leaves; throws
    /// <see cref="ArgumentOutOfRangeException"/> naming what is wrong.
    /// </summary>
    public static void ValidateRequest(int height, int baseLayer, int index, int length, int proofLayers)
    {
        if (baseLayer < 0 || baseLayer > height) throw new ArgumentOutOfRangeException(nameof(baseLayer), $"base layer {baseLayer} is outside 0..{height}");
        if (length < 2 || !BitOperations.IsPow2(length)) throw new ArgumentOutOfRangeException(nameof(length), $"length {length} is not a power of two of at least 2");
        if (index < 0 || index % length != 0) throw new ArgumentOutOfRangeException(nameof(index), $"index {index} is not a multiple of the length {length}");
        long width = 1L << (height - baseLayer);
        if (index + (long)length > width) throw new ArgumentOutOfRangeException(nameof(index), $"hashes {index}..{index + (long)length - 1} run past the {width} of layer {baseLayer}");
        if (proofLayers < 0 || proofLayers > height - baseLayer - 1)
            throw new ArgumentOutOfRangeException(nameof(proofLayers), $"{proofLayers} proof layers reach above the root (at most {height - baseLayer - 1})");
    }

    /// <summary>
    /// Combines the hashes of a 'hashes' answer up the tree: the base hashes (a power of two of them, starting at
    /// <paramref name="index"/> of layer <paramref name="baseLayer"/>) into their subtree's root, then one uncle
    /// per following layer. Returns the node reached: the file's root when the uncles go all the way up.
    /// </summary>
    public static Sha256Hash ComputeRoot(int baseLayer, int index, ReadOnlySpan<byte> baseHashes, ReadOnlySpan<byte> uncles)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(baseLayer);
        int count = baseHashes.Length / HashSize;
        if (count == 0 || baseHashes.Length % HashSize != 0 || !BitOperations.IsPow2(count))
            throw new ArgumentException("base hashes are a power of two of 32-byte hashes", nameof(baseHashes));
        if (index < 0 || index % count != 0) throw new ArgumentOutOfRangeException(nameof(index), $"index {index} is not a multiple of {count}");
        if (uncles.Length % HashSize != 0) throw new ArgumentException("uncles are 32-byte hashes", nameof(uncles));

        Span<byte> node = stackalloc byte[HashSize];
        ComputeLayerRoot(baseHashes, node);
        int position = index / count;
        for (int at = 0; at < uncles.Length; at += HashSize)
        {
            ReadOnlySpan<byte> uncle = uncles.Slice(at, HashSize);
            if ((position & 1) == 0) HashPair(node, uncle, node);
            else HashPair(uncle, node, node);
            position >>= 1;
        }
        return new Sha256Hash(node);
    }

    /// <summary>The root of a subtree of 2^<paramref name="layer"/> zero leaves (layer 0: 32 zero bytes).</summary>
    public static Sha256Hash PadHash(int layer)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(layer);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(layer, MaxLayer);
        return new Sha256Hash(PadHashes[layer]);
    }

    /// <summary>The layer of piece hashes for a piece length (a power of two ≥ 16 KiB): log2(pieceLength / 16 KiB).</summary>
    public static int PieceLayerIndex(int pieceLength)
    {
        if (pieceLength < BlockSize || !BitOperations.IsPow2(pieceLength))
            throw new ArgumentOutOfRangeException(nameof(pieceLength), $"piece length {pieceLength} is not a power of two of at least 16 KiB");
        return BitOperations.Log2((uint)(pieceLength / BlockSize));
    }

    /// <summary>
    /// The hash of one piece of a file from its 16 KiB block hashes: the blocks are padded with zero hashes to a
    /// whole piece, or, when the file is smaller than one piece, to the next power of two (so the piece hash of a
    /// one-piece file is its root). <paramref name="fileLength"/> decides which case applies.
    /// </summary>
    public static Sha256Hash PieceHash(ReadOnlySpan<byte> blockHashes, int pieceLength, long fileLength)
    {
        int leavesPerPiece = 1 << PieceLayerIndex(pieceLength);
        int blocks = blockHashes.Length / HashSize;
        if (blocks == 0 || blockHashes.Length % HashSize != 0 || blocks > leavesPerPiece)
            throw new ArgumentException($"a piece has 1..{leavesPerPiece} block hashes", nameof(blockHashes));
        int width = fileLength < pieceLength ? (int)BitOperations.RoundUpToPowerOf2((uint)blocks) : leavesPerPiece;
        byte[] padded = new byte[width * HashSize];
        blockHashes.CopyTo(padded);
        Span<byte> root = stackalloc byte[HashSize];
        ComputeLayerRoot(padded, root);
        return new Sha256Hash(root);
    }

    /// <summary>
    /// The file's root from its piece layer (as <see cref="GetPieceLayer"/> gives it): the layer is padded to a
    /// power of two with the hashes of all-zero pieces. This is how a torrent's 'piece layers' are checked against
    /// each file's 'pieces root'.
    /// </summary>
    public static Sha256Hash RootFromPieceLayer(ReadOnlySpan<byte> pieceLayer, int pieceLength)
    {
        int layer = PieceLayerIndex(pieceLength);
        int pieces = pieceLayer.Length / HashSize;
        if (pieces == 0 || pieceLayer.Length % HashSize != 0) throw new ArgumentException("a piece layer is a non-empty multiple of 32 bytes", nameof(pieceLayer));
        int width = (int)BitOperations.RoundUpToPowerOf2((uint)pieces);
        byte[] padded = new byte[width * HashSize];
        pieceLayer.CopyTo(padded);
        for (int i = pieces; i < width; i++) PadHashes[layer].CopyTo(padded.AsSpan(i * HashSize));
        Span<byte> root = stackalloc byte[HashSize];
        ComputeLayerRoot(padded, root);
        return new Sha256Hash(root);
    }

    /// <summary>Reduces a power-of-two run of hashes to their root, in place in a scratch copy.</summary>
    private static void ComputeLayerRoot(ReadOnlySpan<byte> hashes, Span<byte> root)
    {
        int count = hashes.Length / HashSize;
        if (count == 1)
        {
            hashes.CopyTo(root);
            return;
        }
        byte[] scratch = hashes.ToArray();
        while (count > 1)
        {
            for (int i = 0; i < count / 2; i++)
                HashPair(scratch.AsSpan(2 * i * HashSize, HashSize), scratch.AsSpan(((2 * i) + 1) * HashSize, HashSize), scratch.AsSpan(i * HashSize, HashSize));
            count /= 2;
        }
        scratch.AsSpan(0, HashSize).CopyTo(root);
    }

    /// <summary>SHA-256(left || right) into <paramref name="destination"/> (which may alias either input).</summary>
    internal static void HashPair(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right, Span<byte> destination)
    {
        Span<byte> pair = stackalloc byte[2 * HashSize];
        left.CopyTo(pair);
        right.CopyTo(pair[HashSize..]);
        SHA256.HashData(pair, destination);
    }

    private static byte[][] BuildPadHashes()
    {
        var pads = new byte[MaxLayer + 1][];
        pads[0] = new byte[HashSize];
        for (int i = 1; i < pads.Length; i++)
        {
            pads[i] = new byte[HashSize];
            HashPair(pads[i - 1], pads[i - 1], pads[i]);
        }
        return pads;
    }
}
