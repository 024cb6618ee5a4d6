using Shoal.Metainfo;

namespace Shoal.Picking;

/// <summary>
/// Per-file priorities turned into per-piece priorities: a piece is as important as the most important file it
/// touches (padding and empty files touch nothing), and it is wanted unless every file it touches is skipped. With
/// <see cref="FirstAndLastPiecesFirst"/>, the first and the last piece of every wanted file are high priority (a player
/// reads a file's header and its index, often at the end, before anything else).
/// Pure and not thread-safe (the torrent actor owns it); priorities may change at any time, and a change reports the
/// pieces whose priority moved so the caller updates the picker for those alone.
/// </summary>
public sealed class PiecePriorities
{
    private readonly long[] _fileStarts;
    private readonly long[] _fileLengths;
    private readonly bool[] _counts; // per file: not padding and not empty, so its priority matters
    private readonly FilePriority[] _files;
    private readonly FilePriority[] _pieces;
    private readonly int _pieceLength;
    private readonly long _totalSize;
    private int _skippedPieces;
    private bool _edgesFirst;

    /// <summary>
    /// Priorities for a torrent of <paramref name="pieceLength"/>-byte pieces over <paramref name="files"/> (offset,
    /// length and padding flag, in torrent order), every file <see cref="FilePriority.Normal"/>.
    /// </summary>
    public PiecePriorities(int pieceLength, IReadOnlyList<(long Offset, long Length, bool IsPadding)> files)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pieceLength);
        ArgumentNullException.ThrowIfNull(files);
        _pieceLength = pieceLength;
        _fileStarts = new long[files.Count];
        _fileLengths = new long[files.Count];
        _counts = new bool[files.Count];
        _files = new FilePriority[files.Count];
        for (int f = 0; f < files.Count; f++)
        {
            (_fileStarts[f], _fileLengths[f], bool padding) = files[f];
            _counts[f] = !padding && _fileLengths[f] > 0;
            _files[f] = FilePriority.Normal;
            _totalSize = Math.Max(_totalSize, _fileStarts[f] + _fileLengths[f]);
        }
        _pieces = new FilePriority[(int)((_totalSize + pieceLength - 1) / pieceLength)];
        for (int p = 0; p < _pieces.Length; p++) _pieces[p] = Compute(p);
        _skippedPieces = _pieces.Count(x => x == FilePriority.Skip);
        WantedBytes = ComputeWantedBytes();
    }

    /// <summary>Priorities of <paramref name="torrent"/>'s files, all <see cref="FilePriority.Normal"/>.</summary>
    public static PiecePriorities For(Torrent torrent)
    {
        ArgumentNullException.ThrowIfNull(torrent);
        return new PiecePriorities(torrent.PieceLength, [.. torrent.Files.Select(f => (f.Offset, f.Length, f.IsPadding))]);
    }

    /// <summary>Number of pieces.</summary>
    public int PieceCount => _pieces.Length;

    /// <summary>Number of files.</summary>
    public int FileCount => _files.Length;

    /// <summary>True when no piece is skipped.</summary>
    public bool AllWanted => _skippedPieces == 0;

    /// <summary>Bytes of the wanted pieces (whole pieces, so a little more than the wanted files where they share one).</summary>
    public long WantedBytes { get; private set; }

    /// <summary>Files not skipped (padding and empty files count as they are set).</summary>
    public int WantedFileCount => _files.Count(p => p != FilePriority.Skip);

    /// <summary>The priority of piece <paramref name="piece"/>.</summary>
    public FilePriority GetPiecePriority(int piece) => _pieces[piece];

    /// <summary>True unless every file the piece touches is skipped.</summary>
    public bool IsWanted(int piece) => _pieces[piece] != FilePriority.Skip;

    /// <summary>The priority of file <paramref name="file"/>.</summary>
    public FilePriority GetFilePriority(int file) => _files[file];

    /// <summary>True when the first and last piece of every wanted file are high priority whatever the file's own priority.</summary>
    public bool FirstAndLastPiecesFirst => _edgesFirst;

    /// <summary>
    /// Makes the first and last piece of every wanted (not skipped) file high priority, or gives them back their files'
    /// priorities; adds to <paramref name="changedPieces"/> (when given) each piece whose priority moved, in ascending order.
    /// </summary>
    public void SetFirstAndLastPiecesFirst(bool on, List<int>? changedPieces = null)
    {
        if (_edgesFirst == on) return;
        _edgesFirst = on;
        int last = -1; // files are in torrent order, so their edge pieces come in ascending order
        for (int f = 0; f < _files.Length; f++)
        {
            if (!_counts[f]) continue;
            (int first, int end) = PieceRange(f);
            if (first > last) Recompute(first, changedPieces);
            if (end > first) Recompute(end, changedPieces);
            last = end;
        }
    }

    /// <summary>
    /// Sets file <paramref name="file"/>'s priority and adds to <paramref name="changedPieces"/> (when given) each
    /// piece whose priority moved, in ascending order.
    /// </summary>
    public void SetFilePriority(int file, FilePriority priority, List<int>? changedPieces = null)
    {
        if (!Enum.IsDefined(priority)) throw new ArgumentOutOfRangeException(nameof(priority), priority, "not a file priority");
        if (_files[file] == priority) return;
        _files[file] = priority;
        if (!_counts[file]) return;
        (int first, int last) = PieceRange(file);
        for (int p = first; p <= last; p++) Recompute(p, changedPieces);
    }

    private (int First, int Last) PieceRange(int file) =>
        ((int)(_fileStarts[file] / _pieceLength), (int)((_fileStarts[file] + _fileLengths[file] - 1) / _pieceLength));

    private void Recompute(int piece, List<int>? changedPieces)
    {
        FilePriority before = _pieces[piece], after = Compute(piece);
        if (before == after) return;
        _pieces[piece] = after;
        if (before == FilePriority.Skip) { _skippedPieces--; WantedBytes += PieceSize(piece); }
        else if (after == FilePriority.Skip) { _skippedPieces++; WantedBytes -= PieceSize(piece); }
        changedPieces?.Add(piece);
    }

    /// <summary>Skips every file not in <paramref name="selected"/> (BEP 53 'so='); out-of-range indices are ignored.</summary>
    public void Select(IReadOnlyCollection<int> selected, List<int>? changedPieces = null)
    {
        ArgumentNullException.ThrowIfNull(selected);
        var keep = new HashSet<int>(selected);
        for (int f = 0; f < _files.Length; f++) SetFilePriority(f, keep.Contains(f) ? FilePriority.Normal : FilePriority.Skip, changedPieces);
    }

    private FilePriority Compute(int piece)
    {
        long start = (long)piece * _pieceLength;
        long end = Math.Min(start + _pieceLength, _totalSize);
        FilePriority max = FilePriority.Skip;
        bool touchesAny = false, edge = false;
        // First file ending after the piece's start; files are in torrent order, so stop at the first starting past its end.
        int lo = 0, hi = _fileStarts.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_fileStarts[mid] + _fileLengths[mid] <= start) lo = mid + 1; else hi = mid;
        }
        for (int f = lo; f < _fileStarts.Length && _fileStarts[f] < end; f++)
        {
            if (!_counts[f]) continue;
            touchesAny = true;
            if (_files[f] > max) max = _files[f];
            if (_edgesFirst && _files[f] != FilePriority.Skip && PieceRange(f) is var (first, last) && (piece == first || piece == last)) edge = true;
        }
        // A piece of nothing but padding has no file to skip it: it is fetched like any other (zeros verify at once).
        return !touchesAny ? FilePriority.Normal : edge ? FilePriority.High : max;
    }

    private int PieceSize(int piece) => (int)Math.Min(_pieceLength, _totalSize - (long)piece * _pieceLength);

    private long ComputeWantedBytes()
    {
        long total = 0;
        for (int p = 0; p < _pieces.Length; p++)
            if (_pieces[p] != FilePriority.Skip) total += PieceSize(p);
        return total;
    }
}
