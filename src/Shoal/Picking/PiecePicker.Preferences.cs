namespace Shoal.Picking;

// Rules 0 and 5 of the picking rules (see PiecePicker.cs), kept apart from the core:
//
//  0. Preferred new pieces (before random-first and rarest-first): pieces with a deadline in deadline order (a
//     range of a file wanted by a time: streaming), then high-priority pieces (rarest among them), then, in
//     sequential mode, the lowest-numbered missing piece. Started pieces still come first (rule 1).
//  5. Low-priority pieces are not in the rarest-first buckets: they are started only when no other new piece is
//     left for the peer, and endgame does not begin while one is available.
public sealed partial class PiecePicker
{
    private Func<int, bool>? _isCandidate;
    private Func<int, int>? _availabilityOf;
    private Func<int, bool>? _isVerified;

    /// <summary>Download the lowest-numbered missing piece first (after deadline and high-priority pieces).</summary>
    public bool Sequential
    {
        get => _prefs.Sequential;
        set
        {
            if (_prefs.Sequential == value) return;
            _prefs.Sequential = value;
            _candidateVersion++;
        }
    }

    /// <summary>
    /// Sets a piece's priority: <see cref="FilePriority.Skip"/> makes it unwanted (as <see cref="SetPieceWanted"/>),
    /// <see cref="FilePriority.High"/> picks it before normal pieces, <see cref="FilePriority.Low"/> only when nothing
    /// else is left for a peer.
    /// </summary>
    public void SetPiecePriority(int piece, FilePriority priority)
    {
        CheckPiece(piece);
        if (priority == FilePriority.Skip)
        {
            SetPieceWanted(piece, false);
            return;
        }
        PieceLevel level = priority switch
        {
            FilePriority.Low => PieceLevel.Low,
            FilePriority.High => PieceLevel.High,
            _ => PieceLevel.Normal,
        };
        PieceLevel before = _prefs.LevelOf(piece);
        if (before != level)
        {
            // Low pieces live outside the rarest-first buckets: move a waiting candidate in or out of them.
            bool waiting = _state[piece] == StateMissing && !_unwanted[piece];
            if (waiting && before == PieceLevel.Low) { _prefs.SetLevel(piece, level); _candidates.Insert(piece); }
            else if (waiting && level == PieceLevel.Low) { _candidates.Remove(piece); _prefs.SetLevel(piece, level); }
            else _prefs.SetLevel(piece, level);
            _candidateVersion++;
        }
        SetPieceWanted(piece, true);
    }

    /// <summary>
    /// Wants <paramref name="piece"/> by <paramref name="deadline"/> (any ordered value, e.g. a timestamp): pieces
    /// with a deadline are started first, earliest deadline first, until they are verified.
    /// </summary>
    public void SetDeadline(int piece, long deadline)
    {
        CheckPiece(piece);
        if (_have[piece]) return;
        _prefs.SetDeadline(piece, deadline);
        _candidateVersion++;
    }

    /// <summary>Forgets every deadline.</summary>
    public void ClearDeadlines()
    {
        _prefs.ClearDeadlines();
        _candidateVersion++;
    }

    /// <summary>Pieces waiting for their deadline, earliest first.</summary>
    public IEnumerable<int> DeadlinePieces => _prefs.DeadlinePieces;

    /// <summary>The piece may be started now: missing and wanted.</summary>
    private bool IsCandidate(int piece) => _state[piece] == StateMissing && !_unwanted[piece];

    /// <summary>A missing, wanted piece belongs in the rarest-first buckets unless it is low priority.</summary>
    private bool InBuckets(int piece) => _prefs.LevelOf(piece) != PieceLevel.Low;
}
