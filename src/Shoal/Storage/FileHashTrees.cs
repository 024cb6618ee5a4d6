using System.Numerics;
using Shoal.Metainfo;

namespace Shoal.Storage;

/// <summary>
/// What one v2 or hybrid torrent knows of its BEP 52 merkle trees: for each file its root, its piece layer (from the
/// .torrent, or learned from peers and checked against the root), and the 16 KiB block hashes of every piece that has
/// verified. Serves the hash requests of peers (<see cref="TryGetHashes"/>) and checks their answers
/// (<see cref="TryAddHashes"/>). Thread-safe: disk workers record block hashes while the actor serves requests.
/// </summary>
/// <remarks>
/// <para><b>Geometry.</b> In a v2 layout files start on piece boundaries (the .torrent's padding files, explicit in a
/// hybrid and implied in a v2-only torrent, fill the gaps), so each piece belongs to one file, and the last piece of a
/// file hashes only the file's bytes (<see cref="GetHashedLength"/>): the padding after them is not part of the tree.</para>
/// <para><b>Memory.</b> A piece layer costs 32 bytes per piece; block hashes, kept once pieces verify, 32 bytes per
/// 16 KiB of data (2 MiB per GiB), allocated per file the first time one of its pieces verifies.</para>
/// </remarks>
public sealed class FileHashTrees
{
    /// <summary>Most hashes one request may ask for (BEP 52: a length above 512 SHOULD NOT be sent; libtorrent rejects it).</summary>
    public const int MaxRequestLength = 512;

    private const int HashSize = Sha256Hash.Length;

    private readonly FileTree[] _trees;
    private readonly int[] _pieceTree; // tree of each piece, -1 for a piece of padding only
    private readonly int[] _leavesKnown; // one bit per piece: its block hashes are known (verified)
    private readonly Dictionary<Sha256Hash, int> _byRoot = [];
    private int _stateVersion;

    /// <summary>Builds the state of <paramref name="torrent"/> (v2 or hybrid), with the piece layers it carries.</summary>
    /// <exception cref="ArgumentException">The torrent has no v2 metadata.</exception>
    public FileHashTrees(Torrent torrent)
    {
        ArgumentNullException.ThrowIfNull(torrent);
        if (!torrent.HasV2) throw new ArgumentException("a v1-only torrent has no merkle trees", nameof(torrent));
        PieceLength = torrent.PieceLength;
        PieceCount = torrent.PieceCount;
        PieceLayer = MerkleTree.PieceLayerIndex(PieceLength);
        _pieceTree = new int[PieceCount];
        Array.Fill(_pieceTree, -1);
        _leavesKnown = new int[(PieceCount + 31) / 32];
        var trees = new List<FileTree>();
        for (int f = 0; f < torrent.Files.Count; f++)
        {
            TorrentFile file = torrent.Files[f];
            if (file.PiecesRoot is not { } root || file.Length == 0 || file.IsPadding) continue;
            (int first, int count) = torrent.GetFilePieces(f);
            var tree = new FileTree(f, file.Offset, file.Length, root, first, count, PieceLayer);
            ReadOnlyMemory<byte> layer = torrent.GetPieceLayer(f);
            if (!layer.IsEmpty && layer.Length == count * HashSize)
            {
                tree.Layer = layer.ToArray();
                tree.LayerInTorrent = true;
            }
            for (int p = first; p < first + count; p++) _pieceTree[p] = trees.Count;
            _byRoot.TryAdd(root, trees.Count); // the same file twice in one torrent: one tree serves both
            trees.Add(tree);
        }
        _trees = [.. trees];
    }

    /// <summary>Nominal piece length.</summary>
    public int PieceLength { get; }

    /// <summary>Pieces of the torrent.</summary>
    public int PieceCount { get; }

    /// <summary>The layer of piece hashes: log2(piece length / 16 KiB).</summary>
    public int PieceLayer { get; }

    /// <summary>Files that have a tree (not empty, not padding), in torrent order.</summary>
    public int TreeCount => _trees.Length;

    /// <summary>
    /// Grows each time something is learned (a piece layer, a proved part of one, a verified piece's block hashes) or
    /// forgotten: resume data is saved again when it moved since the last save.
    /// </summary>
    internal int StateVersion => Volatile.Read(ref _stateVersion);

    /// <summary>True when every file's piece layer is known: every piece can be verified.</summary>
    public bool HasAllLayers => _trees.All(t => t.Layer is not null);

    /// <summary>The root of tree <paramref name="tree"/> (0 ≤ tree &lt; <see cref="TreeCount"/>).</summary>
    public Sha256Hash GetRoot(int tree) => _trees[tree].Root;

    /// <summary>The index of the file tree <paramref name="tree"/> belongs to in the torrent's file list.</summary>
    public int GetFileIndex(int tree) => _trees[tree].FileIndex;

    /// <summary>Pieces of tree <paramref name="tree"/>'s file.</summary>
    public int GetTreePieceCount(int tree) => _trees[tree].PieceCount;

    /// <summary>The first piece of tree <paramref name="tree"/>'s file (its pieces follow one another).</summary>
    internal int GetTreeFirstPiece(int tree) => _trees[tree].FirstPiece;

    /// <summary>True when tree <paramref name="tree"/>'s piece layer came with the torrent's metainfo (nothing to keep for it).</summary>
    internal bool IsLayerInTorrent(int tree) => _trees[tree].LayerInTorrent;

    /// <summary>Layers above the leaves in tree <paramref name="tree"/> (log2 of its leaf count rounded up to a power of two).</summary>
    public int GetTreeHeight(int tree) => _trees[tree].Height;

    /// <summary>The piece layer of tree <paramref name="tree"/> (the root for a file of one piece); null while unknown.</summary>
    public byte[]? GetPieceLayer(int tree) => _trees[tree].Layer;

    /// <summary>The tree with root <paramref name="root"/>; -1 when no file of the torrent has it.</summary>
    public int FindTree(Sha256Hash root) => _byRoot.TryGetValue(root, out int tree) ? tree : -1;

    /// <summary>The tree piece <paramref name="piece"/> belongs to; -1 for a piece of padding only.</summary>
    public int GetTreeOfPiece(int piece) => _pieceTree[piece];

    /// <summary>True when the expected hash of <paramref name="piece"/> is known (its file's piece layer is).</summary>
    public bool CanVerify(int piece) => _pieceTree[piece] is var t and >= 0 && _trees[t].Layer is not null;

    /// <summary>Bytes of <paramref name="piece"/> that its file's tree covers: the piece, less the padding after a file's end.</summary>
    public int GetHashedLength(int piece)
    {
        int t = _pieceTree[piece];
        if (t < 0) return 0;
        FileTree tree = _trees[t];
        long start = (long)piece * PieceLength;
        return (int)Math.Min(PieceLength, tree.Offset + tree.Length - start);
    }

    /// <summary>Length of the file piece <paramref name="piece"/> belongs to (0 for padding).</summary>
    public long GetFileLength(int piece) => _pieceTree[piece] is var t and >= 0 ? _trees[t].Length : 0;

    /// <summary>Copies the expected hash of <paramref name="piece"/> into <paramref name="destination"/>; false while unknown.</summary>
    public bool TryGetPieceHash(int piece, Span<byte> destination)
    {
        int t = _pieceTree[piece];
        if (t < 0 || _trees[t].Layer is not { } layer) return false;
        layer.AsSpan((piece - _trees[t].FirstPiece) * HashSize, HashSize).CopyTo(destination);
        return true;
    }

    /// <summary>True when the block hashes of <paramref name="piece"/> are known.</summary>
    public bool HasBlockHashes(int piece) => (Volatile.Read(ref _leavesKnown[piece >> 5]) & (1 << (piece & 31))) != 0;

    /// <summary>The block hashes of a verified piece (32 bytes per 16 KiB block of the file's bytes in it); empty when unknown.</summary>
    public ReadOnlySpan<byte> GetBlockHashes(int piece)
    {
        if (!HasBlockHashes(piece)) return [];
        FileTree tree = _trees[_pieceTree[piece]];
        (int first, int count) = BlocksOf(tree, piece);
        return tree.Leaves!.AsSpan(first * HashSize, count * HashSize);
    }

    /// <summary>Records the block hashes of a piece that verified against its piece hash (any thread).</summary>
    public void RecordBlockHashes(int piece, ReadOnlySpan<byte> blockHashes)
    {
        int t = _pieceTree[piece];
        if (t < 0 || HasBlockHashes(piece)) return;
        FileTree tree = _trees[t];
        (int first, int count) = BlocksOf(tree, piece);
        if (blockHashes.Length != count * HashSize) throw new ArgumentException($"piece {piece} has {count} blocks, got {blockHashes.Length / HashSize} hashes", nameof(blockHashes));
        byte[] leaves = tree.Leaves ?? EnsureLeaves(tree);
        blockHashes.CopyTo(leaves.AsSpan(first * HashSize));
        Interlocked.Or(ref _leavesKnown[piece >> 5], 1 << (piece & 31));
        Interlocked.Increment(ref _stateVersion);
    }

    /// <summary>Forgets the block hashes of a piece that no longer verifies (a recheck found it damaged).</summary>
    public void ForgetBlockHashes(int piece)
    {
        if ((Interlocked.And(ref _leavesKnown[piece >> 5], ~(1 << (piece & 31))) & (1 << (piece & 31))) != 0) Interlocked.Increment(ref _stateVersion);
    }

    /// <summary>
    /// Sets the piece layer of tree <paramref name="tree"/> when it hashes up to the tree's root (from resume data, or
    /// whole from a peer). False, and nothing set, when it does not.
    /// </summary>
    public bool TrySetPieceLayer(int tree, ReadOnlySpan<byte> layer)
    {
        FileTree t = _trees[tree];
        if (t.Layer is not null) return true;
        if (layer.Length != t.PieceCount * HashSize) return false;
        if (MerkleTree.RootFromPieceLayer(layer, PieceLength) != t.Root) return false;
        lock (t)
        {
            if (t.Layer is not null) return true;
            t.Layer = layer.ToArray();
            t.PartialLayer = null;
            t.PartialKnown = null;
            t.Parts = null;
        }
        Interlocked.Increment(ref _stateVersion);
        return true;
    }

    /// <summary>
    /// The request that fetches part of tree <paramref name="tree"/>'s piece layer starting at hash
    /// <paramref name="index"/> (a multiple of <see cref="MaxRequestLength"/>), with the uncles that prove it up to the root.
    /// </summary>
    public HashRequest PieceLayerRequest(int tree, int index)
    {
        FileTree t = _trees[tree];
        int width = 1 << (t.Height - PieceLayer);
        int length = Math.Min(MaxRequestLength, Math.Max(2, width));
        return new HashRequest(t.Root, PieceLayer, index, length, t.Height - PieceLayer - 1);
    }

    /// <summary>The request for the block hashes of <paramref name="piece"/>, proved up to its piece hash; null when it has one block (the piece hash is the block hash) or no tree.</summary>
    public HashRequest? BlockHashesRequest(int piece)
    {
        int t = _pieceTree[piece];
        if (t < 0) return null;
        FileTree tree = _trees[t];
        int pieceHeight = Math.Min(PieceLayer, tree.Height); // a file smaller than a piece: its whole tree
        if (pieceHeight == 0) return null;
        int length = 1 << pieceHeight;
        int index = (piece - tree.FirstPiece) << PieceLayer;
        return new HashRequest(tree.Root, 0, index, length, pieceHeight - 1);
    }

    /// <summary>
    /// Answers a peer's hash request from what is known: the base hashes, then one uncle per proof layer above the
    /// subtree they complete (BEP 52). False when the request is malformed or asks for hashes not known here (the
    /// caller sends a hash reject).
    /// </summary>
    public bool TryGetHashes(in HashRequest request, out byte[] hashes)
    {
        hashes = [];
        int t = FindTree(request.Root);
        if (t < 0) return false;
        FileTree tree = _trees[t];
        if (request.Length > MaxRequestLength || !IsValid(tree.Height, request)) return false;
        int omitted = BitOperations.Log2((uint)request.Length) - 1;
        int uncles = Math.Max(0, request.ProofLayers - omitted);
        byte[] result = new byte[(request.Length + uncles) * HashSize];
        for (int i = 0; i < request.Length; i++)
            if (!TryGetNode(tree, request.BaseLayer, (long)request.Index + i, result.AsSpan(i * HashSize, HashSize))) return false;
        int at = request.Length * HashSize;
        long position = request.Index;
        for (int i = 0; i < request.ProofLayers; i++)
        {
            position >>= 1;
            if (i < omitted) continue;
            if (!TryGetNode(tree, request.BaseLayer + i + 1, position ^ 1, result.AsSpan(at, HashSize))) return false;
            at += HashSize;
        }
        hashes = result;
        return true;
    }

    /// <summary>
    /// Checks a peer's 'hashes' answer to <paramref name="request"/> (one we sent) against the tree: the base hashes
    /// and uncles must hash up to the root, or, for block hashes proved up to a piece, to that piece's known hash.
    /// Piece-layer hashes that check out are kept; when a file's layer is complete it becomes its piece layer.
    /// Returns the verified base hashes, or null when the answer does not check out (a lying or broken peer).
    /// </summary>
    public byte[]? TryAddHashes(in HashRequest request, ReadOnlySpan<byte> payload)
    {
        int t = FindTree(request.Root);
        if (t < 0 || !IsValid(_trees[t].Height, request)) return null;
        FileTree tree = _trees[t];
        int omitted = BitOperations.Log2((uint)request.Length) - 1;
        int uncles = Math.Max(0, request.ProofLayers - omitted);
        if (payload.Length != (request.Length + uncles) * HashSize) return null;
        ReadOnlySpan<byte> baseHashes = payload[..(request.Length * HashSize)];
        Sha256Hash reached = MerkleTree.ComputeRoot(request.BaseLayer, request.Index, baseHashes, payload[(request.Length * HashSize)..]);
        int reachedLayer = request.BaseLayer + BitOperations.Log2((uint)request.Length) + uncles;
        long reachedIndex = (long)request.Index >> (reachedLayer - request.BaseLayer);
        Span<byte> expected = stackalloc byte[HashSize];
        if (reachedLayer == tree.Height) tree.Root.Span.CopyTo(expected);
        else if (!TryGetNode(tree, reachedLayer, reachedIndex, expected)) return null; // nothing known to check against
        if (!reached.Span.SequenceEqual(expected)) return null;

        if (request.BaseLayer == PieceLayer && tree.Layer is null && tree.PieceCount > 1 && reachedLayer == tree.Height) AddLayerPart(tree, request, payload);
        return baseHashes.ToArray();
    }

    /// <summary>
    /// Keeps the piece-layer hashes of a part proved up to the root, and the answer itself while the layer is incomplete
    /// (resume data keeps it, so the part can be proved again after a restart, see <see cref="GetLayerParts"/>).
    /// </summary>
    private void AddLayerPart(FileTree tree, HashRequest request, ReadOnlySpan<byte> payload)
    {
        int index = request.Index;
        ReadOnlySpan<byte> hashes = payload[..(request.Length * HashSize)];
        lock (tree)
        {
            if (tree.Layer is not null) return;
            tree.PartialLayer ??= new byte[tree.PieceCount * HashSize];
            tree.PartialKnown ??= new bool[tree.PieceCount];
            int count = Math.Min(hashes.Length / HashSize, tree.PieceCount - index);
            if (count <= 0 || Array.IndexOf(tree.PartialKnown, false, index, count) < 0) return; // nothing new
            hashes[..(count * HashSize)].CopyTo(tree.PartialLayer.AsSpan(index * HashSize));
            for (int i = 0; i < count; i++) tree.PartialKnown[index + i] = true;
            tree.Parts ??= new Dictionary<int, (HashRequest Request, byte[] Payload)>();
            tree.Parts[index] = (request, payload.ToArray()); // bounded: at most one per index of the layer
            Interlocked.Increment(ref _stateVersion);
            if (Array.IndexOf(tree.PartialKnown, false) >= 0) return;
            // Each part was proved up to the root already; checking the whole again costs little and guards the seams.
            if (MerkleTree.RootFromPieceLayer(tree.PartialLayer, PieceLength) == tree.Root) tree.Layer = tree.PartialLayer;
            tree.PartialLayer = null;
            tree.PartialKnown = null;
            tree.Parts = null;
        }
    }

    /// <summary>
    /// The proved parts of tree <paramref name="tree"/>'s piece layer while it is incomplete: each request we sent and the
    /// answer that proved up to the root (hashes and uncles), as <see cref="TryAddHashes"/> takes them back. Empty once the
    /// layer is whole (it is then <see cref="GetPieceLayer"/>).
    /// </summary>
    internal IReadOnlyList<(HashRequest Request, byte[] Payload)> GetLayerParts(int tree)
    {
        FileTree t = _trees[tree];
        lock (t) return t.Parts is { } parts ? parts.Values.ToArray() : [];
    }

    /// <summary>Which parts of tree <paramref name="tree"/>'s piece layer are still missing: the start index of each request-sized part.</summary>
    public IEnumerable<int> MissingLayerParts(int tree)
    {
        FileTree t = _trees[tree];
        if (t.Layer is not null) yield break;
        int step = PieceLayerRequest(tree, 0).Length;
        for (int index = 0; index < t.PieceCount; index += step)
        {
            bool[]? known;
            lock (t) known = t.PartialKnown;
            if (known is null || Array.IndexOf(known, false, index, Math.Min(step, t.PieceCount - index)) >= 0) yield return index;
        }
    }

    private static bool IsValid(int height, in HashRequest r)
    {
        if (r.BaseLayer < 0 || r.BaseLayer > height || r.Length < 2 || !BitOperations.IsPow2(r.Length)) return false;
        if (r.Index < 0 || r.Index % r.Length != 0) return false;
        if (r.Index + (long)r.Length > 1L << (height - r.BaseLayer)) return false;
        return r.ProofLayers >= 0 && r.ProofLayers <= height - r.BaseLayer - 1;
    }

    /// <summary>Node <paramref name="index"/> of layer <paramref name="layer"/> of a file's tree, from what is known.</summary>
    private bool TryGetNode(FileTree tree, int layer, long index, Span<byte> destination)
    {
        if (layer == tree.Height)
        {
            if (index != 0) return false;
            tree.Root.Span.CopyTo(destination);
            return true;
        }
        int pieceHeight = Math.Min(PieceLayer, tree.Height);
        if (layer >= pieceHeight && tree.PieceCount > 1)
        {
            byte[][]? upper = tree.Upper ?? BuildUpper(tree);
            if (upper is null) return false;
            byte[] row = upper[layer - PieceLayer];
            if ((index + 1) * HashSize > row.Length) return false;
            row.AsSpan((int)index * HashSize, HashSize).CopyTo(destination);
            return true;
        }
        // Inside one piece: from that piece's block hashes, zero leaves past the file's end.
        long piece = (index << layer) >> PieceLayer;
        if (piece >= tree.PieceCount)
        {
            MerkleTree.PadHash(layer).Span.CopyTo(destination);
            return true;
        }
        int p = tree.FirstPiece + (int)piece;
        if (!HasBlockHashes(p)) return false;
        long firstLeaf = index << layer;
        int width = 1 << layer;
        byte[] scratch = new byte[width * HashSize];
        long available = Math.Max(0, Math.Min(width, tree.Blocks - firstLeaf));
        tree.Leaves.AsSpan((int)firstLeaf * HashSize, (int)available * HashSize).CopyTo(scratch);
        MerkleHashing.ReduceInPlace(scratch, width);
        scratch.AsSpan(0, HashSize).CopyTo(destination);
        return true;
    }

    /// <summary>The layers from the piece layer up to the root (each padded to its power-of-two width); null while the piece layer is unknown.</summary>
    private byte[][]? BuildUpper(FileTree tree)
    {
        byte[]? layer = tree.Layer;
        if (layer is null) return null;
        int rows = tree.Height - PieceLayer + 1;
        var upper = new byte[rows][];
        int width = 1 << (rows - 1);
        upper[0] = new byte[width * HashSize];
        layer.CopyTo(upper[0], 0);
        Sha256Hash pad = MerkleTree.PadHash(PieceLayer);
        for (int i = tree.PieceCount; i < width; i++) pad.Span.CopyTo(upper[0].AsSpan(i * HashSize));
        for (int r = 1; r < rows; r++)
        {
            byte[] below = upper[r - 1];
            upper[r] = new byte[below.Length / 2];
            for (int i = 0; i < upper[r].Length / HashSize; i++)
                MerkleTree.HashPair(below.AsSpan(2 * i * HashSize, HashSize), below.AsSpan((2 * i + 1) * HashSize, HashSize), upper[r].AsSpan(i * HashSize, HashSize));
        }
        lock (tree) tree.Upper ??= upper;
        return tree.Upper;
    }

    private (int First, int Count) BlocksOf(FileTree tree, int piece)
    {
        int first = (piece - tree.FirstPiece) << PieceLayer;
        return (first, Math.Min(1 << PieceLayer, tree.Blocks - first));
    }

    private static byte[] EnsureLeaves(FileTree tree)
    {
        lock (tree) return tree.Leaves ??= new byte[tree.Blocks * (long)HashSize > int.MaxValue ? throw new InvalidOperationException("file too large for in-memory block hashes") : tree.Blocks * HashSize];
    }

    private sealed class FileTree(int fileIndex, long offset, long length, Sha256Hash root, int firstPiece, int pieceCount, int pieceLayer)
    {
        public int FileIndex { get; } = fileIndex;
        public long Offset { get; } = offset;
        public long Length { get; } = length;
        public Sha256Hash Root { get; } = root;
        public int FirstPiece { get; } = firstPiece;
        public int PieceCount { get; } = pieceCount;
        public int Blocks { get; } = (int)((length + MerkleTree.BlockSize - 1) / MerkleTree.BlockSize);
        public int Height { get; } = Math.Max(BitOperations.Log2(BitOperations.RoundUpToPowerOf2((uint)((length + MerkleTree.BlockSize - 1) / MerkleTree.BlockSize))), pieceCount > 1 ? pieceLayer + 1 : 0);
        public volatile byte[]? Layer;
        public bool LayerInTorrent;
        public byte[]? PartialLayer;
        public bool[]? PartialKnown;
        public Dictionary<int, (HashRequest Request, byte[] Payload)>? Parts; // answers that proved parts of a partial layer
        public byte[][]? Upper;
        public byte[]? Leaves;
    }
}
