namespace Shoal.Metainfo;

/// <summary>The BEP 52 side of <see cref="Torrent"/>: piece layers and the mapping between pieces and files.</summary>
public sealed partial class Torrent
{
    /// <summary>
    /// True for a v2 or hybrid torrent whose every file larger than one piece has its piece layer (from the .torrent's
    /// 'piece layers'); false when some must still come from peers (a magnet, or a .torrent without them).
    /// </summary>
    public bool HasPieceLayers
    {
        get
        {
            if (!HasV2) return false;
            for (int i = 0; i < _files.Length; i++)
            {
                if (_files[i].PiecesRoot is not null && _files[i].Length > PieceLength && _pieceLayers[i].IsEmpty) return false;
            }
            return true;
        }
    }

    /// <summary>
    /// The v2 piece layer of file <paramref name="fileIndex"/>: one 32-byte SHA-256 hash per piece of the file, checked
    /// against its <see cref="TorrentFile.PiecesRoot"/>. For a file of at most one piece it is the root itself. Empty
    /// for v1-only torrents, padding, empty files and links, and for a layer the torrent did not carry.
    /// </summary>
    public ReadOnlyMemory<byte> GetPieceLayer(int fileIndex)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fileIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(fileIndex, _files.Length);
        TorrentFile file = _files[fileIndex];
        if (file.PiecesRoot is not { } root) return ReadOnlyMemory<byte>.Empty;
        return file.Length <= PieceLength ? root.Span.ToArray() : _pieceLayers[fileIndex];
    }

    /// <summary>
    /// The pieces file <paramref name="fileIndex"/> overlaps: the first and how many (0 for an empty file). In a v2
    /// torrent a file's pieces are its own (files start on piece boundaries), so piece <c>First + k</c> is the file's
    /// piece k and its hash is entry k of <see cref="GetPieceLayer"/>.
    /// </summary>
    public (int First, int Count) GetFilePieces(int fileIndex)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fileIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(fileIndex, _files.Length);
        TorrentFile file = _files[fileIndex];
        if (file.Length == 0) return ((int)Math.Min(file.Offset / PieceLength, PieceCount), 0);
        int first = (int)(file.Offset / PieceLength);
        int last = (int)((file.Offset + file.Length - 1) / PieceLength);
        return (first, last - first + 1);
    }

    /// <summary>
    /// The file in which piece <paramref name="piece"/> begins (skipping empty files). In a v2 torrent this is the one
    /// file the piece belongs to.
    /// </summary>
    public int GetFileIndexAtPiece(int piece)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(piece);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(piece, PieceCount);
        long offset = (long)piece * PieceLength;
        int lo = 0, hi = _fileOffsets.Length - 1;
        while (lo < hi)
        {
            int mid = (lo + hi + 1) >>> 1;
            if (_fileOffsets[mid] <= offset) lo = mid;
            else hi = mid - 1;
        }
        while (_files[lo].Length == 0 || _fileOffsets[lo] + _files[lo].Length <= offset) lo++;
        return lo;
    }

    /// <summary>
    /// The v2 hash of piece <paramref name="piece"/>: the root of the merkle subtree over its 16 KiB blocks, from the
    /// piece layer of the file it belongs to. Null for a v1-only torrent, for padding, and while that file's piece
    /// layer is unknown.
    /// </summary>
    public Sha256Hash? GetPieceHashV2(int piece)
    {
        if (!HasV2) return null;
        int fileIndex = GetFileIndexAtPiece(piece);
        ReadOnlyMemory<byte> layer = GetPieceLayer(fileIndex);
        if (layer.IsEmpty) return null;
        int inFile = (int)(((long)piece * PieceLength - _files[fileIndex].Offset) / PieceLength);
        return new Sha256Hash(layer.Span.Slice(inFile * Sha256Hash.Length, Sha256Hash.Length));
    }
}
