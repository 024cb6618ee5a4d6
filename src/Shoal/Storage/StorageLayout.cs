using Shoal.Metainfo;

namespace Shoal.Storage;

/// <summary>
/// How a torrent's byte stream is cut into pieces and laid over files: pure arithmetic, no I/O, immutable
/// and therefore safe to share between threads. How pieces are verified is not the layout's business: see
/// <see cref="IPieceVerifier"/>.
/// </summary>
public sealed class StorageLayout
{
    private readonly StorageFile[] _files;
    private readonly long[] _fileStarts;

    /// <summary>
    /// Builds a layout. Throws <see cref="ShoalFormatException"/> when the description is inconsistent
    /// (negative sizes, a piece length that is not positive, too many pieces).
    /// </summary>
    /// <param name="files">Files in torrent order; their byte ranges tile [0, TotalSize).</param>
    /// <param name="pieceLength">Nominal piece length in bytes.</param>
    public StorageLayout(IReadOnlyList<StorageFile> files, int pieceLength)
    {
        ArgumentNullException.ThrowIfNull(files);
        if (pieceLength <= 0) throw new ShoalFormatException($"piece length {pieceLength} is not positive");
        _files = new StorageFile[files.Count];
        _fileStarts = new long[files.Count];
        long total = 0;
        for (int i = 0; i < _files.Length; i++)
        {
            StorageFile f = files[i] ?? throw new ShoalFormatException($"file {i} is missing");
            if (f.Length < 0) throw new ShoalFormatException($"file {i} has negative length {f.Length}");
            if (f.PathSegments is null || f.PathSegments.Count == 0) throw new ShoalFormatException($"file {i} has no path");
            _files[i] = f;
            _fileStarts[i] = total;
            if (total > long.MaxValue - f.Length) throw new ShoalFormatException("total size overflows");
            total += f.Length;
        }
        long pieces = (total + pieceLength - 1) / pieceLength;
        if (pieces > MaxPieceCount) throw new ShoalFormatException($"{pieces} pieces is too many");
        TotalSize = total;
        PieceLength = pieceLength;
        PieceCount = (int)pieces;
    }

    /// <summary>Most pieces a layout may have (a piece index is an int on the wire).</summary>
    public const int MaxPieceCount = int.MaxValue / 32;

    /// <summary>The layout of a parsed torrent.</summary>
    public static StorageLayout FromTorrent(Torrent t) => FromTorrent(t, null);

    /// <summary>The layout of a parsed torrent with some files renamed (see <see cref="RenamedPaths"/>; checked there).</summary>
    internal static StorageLayout FromTorrent(Torrent t, IReadOnlyDictionary<int, string>? renamedFiles) =>
        new(t.Files.Select((f, i) => new StorageFile(RenamedPaths.Segments(t, i, renamedFiles), f.Length, f.IsPadding)
        {
            IsExecutable = f.IsExecutable,
            SymlinkTarget = f.IsSymlink && f.Length == 0 ? f.SymlinkTarget : null,
        }).ToArray(), t.PieceLength);

    /// <summary>True when a file asks for more than its bytes once complete (BEP 47 'x' or 'l'): see <see cref="FinishedFiles"/>.</summary>
    public bool NeedsFinishing => _files.Any(f => f.IsExecutable || f.SymlinkTarget is not null);

    /// <summary>Files in torrent order.</summary>
    public IReadOnlyList<StorageFile> Files => _files;

    /// <summary>Bytes of content, padding included.</summary>
    public long TotalSize { get; }

    /// <summary>Number of pieces.</summary>
    public int PieceCount { get; }

    /// <summary>Nominal piece length (the last piece may be shorter).</summary>
    public int PieceLength { get; }

    /// <summary>Where file <paramref name="fileIndex"/> starts in the torrent's byte stream.</summary>
    public long GetFileOffset(int fileIndex) => _fileStarts[fileIndex];

    /// <summary>Where piece <paramref name="piece"/> starts in the torrent's byte stream.</summary>
    public long GetPieceOffset(int piece)
    {
        CheckPiece(piece);
        return (long)piece * PieceLength;
    }

    /// <summary>Length of one piece (the last one may be shorter).</summary>
    public int GetPieceSize(int piece)
    {
        CheckPiece(piece);
        long start = (long)piece * PieceLength;
        return (int)Math.Min(PieceLength, TotalSize - start);
    }

    /// <summary>
    /// Maps the torrent byte range [<paramref name="offset"/>, offset + <paramref name="length"/>) to the file
    /// slices it covers, in order. Zero-length files never appear; padding files do (check
    /// <see cref="StorageFile.IsPadding"/>). Allocation-free: enumerate with foreach.
    /// </summary>
    public FileSliceEnumerator MapRange(long offset, long length)
    {
        if (offset < 0 || length < 0 || offset > TotalSize || length > TotalSize - offset)
            throw new ArgumentOutOfRangeException(nameof(offset), $"range [{offset}, +{length}) is outside [0, {TotalSize})");
        int first = length == 0 ? _files.Length : FindFile(offset);
        return new FileSliceEnumerator(this, first, offset, length);
    }

    /// <summary>Index of the non-empty file containing torrent byte <paramref name="offset"/>.</summary>
    public int FindFile(long offset)
    {
        if ((ulong)offset >= (ulong)TotalSize) throw new ArgumentOutOfRangeException(nameof(offset));
        // Last file whose start <= offset; zero-length files share their start with the next file, so skip forward past them.
        int lo = 0, hi = _fileStarts.Length - 1;
        while (lo < hi)
        {
            int mid = (lo + hi + 1) >>> 1;
            if (_fileStarts[mid] <= offset) lo = mid; else hi = mid - 1;
        }
        while (_files[lo].Length == 0 || _fileStarts[lo] + _files[lo].Length <= offset) lo++;
        return lo;
    }

    private void CheckPiece(int piece)
    {
        if ((uint)piece >= (uint)PieceCount)
            throw new ArgumentOutOfRangeException(nameof(piece), $"piece {piece} is outside [0, {PieceCount})");
    }

    /// <summary>Enumerates the file slices of a range without allocating.</summary>
    public struct FileSliceEnumerator
    {
        private readonly StorageLayout _layout;
        private int _file;
        private long _offset;
        private long _remaining;

        internal FileSliceEnumerator(StorageLayout layout, int file, long offset, long length)
        {
            _layout = layout;
            _file = file - 1;
            _offset = offset;
            _remaining = length;
            Current = default;
        }

        /// <summary>The current slice.</summary>
        public FileSlice Current { get; private set; }

        /// <summary>Returns itself so it can be used in foreach.</summary>
        public readonly FileSliceEnumerator GetEnumerator() => this;

        /// <summary>Advances to the next slice.</summary>
        public bool MoveNext()
        {
            if (_remaining <= 0) return false;
            do _file++; while (_layout._files[_file].Length == 0);
            long start = _layout._fileStarts[_file];
            long inFile = _offset - start;
            long n = Math.Min(_remaining, _layout._files[_file].Length - inFile);
            Current = new FileSlice(_file, inFile, n);
            _offset += n;
            _remaining -= n;
            return true;
        }
    }
}
