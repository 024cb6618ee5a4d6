namespace Shoal.Picking;

/// <summary>
/// The picker's order among new pieces beyond rarest first (PiecePicker's rules 0 and 5): pieces with a deadline
/// first (a range of a file wanted by a time, for streaming), in deadline order; then high-priority pieces; then, in
/// sequential mode, the lowest-numbered piece; low-priority pieces only when nothing else is left for that peer.
/// Sets are filtered lazily: a member that stopped being a candidate (started, verified, unwanted) is skipped when met
/// and dropped, so changing them costs nothing per block. Pure; owned by one <see cref="PiecePicker"/>.
/// </summary>
internal sealed class PiecePreferences(int pieceCount)
{
    /// <summary>Deadlines kept at most; beyond it the farthest one is dropped (a streaming window is tens of pieces).</summary>
    public const int MaxDeadlines = 4096;

    private readonly byte[] _level = CreateLevels(pieceCount); // PieceLevel per piece
    // The sets are made on first use: most torrents never set a priority or a deadline (an idle seed of thousands).
    private SortedSet<int>? _high;
    private SortedSet<int> High => _high ??= [];
    private SortedSet<int>? _low;
    private SortedSet<int> Low => _low ??= [];
    private SortedSet<(long Deadline, int Piece)>? _deadlines;
    private SortedSet<(long Deadline, int Piece)> Deadlines => _deadlines ??= [];
    private Dictionary<int, long>? _deadlineOf;
    private Dictionary<int, long> DeadlineOf => _deadlineOf ??= [];
    private int _sequentialCursor;

    /// <summary>Download the lowest-numbered missing piece first (after deadlines and high priority).</summary>
    public bool Sequential { get; set; }

    /// <summary>True when nothing changes the order: the picker then skips this class entirely.</summary>
    public bool IsNeutral => !Sequential && (_high?.Count ?? 0) == 0 && (_deadlines?.Count ?? 0) == 0;

    /// <summary>Pieces at the low level (candidates or not).</summary>
    public int LowCount => _low?.Count ?? 0;

    public PieceLevel LevelOf(int piece) => (PieceLevel)_level[piece];

    /// <summary>Sets a piece's level; returns the previous one.</summary>
    public PieceLevel SetLevel(int piece, PieceLevel level)
    {
        var before = (PieceLevel)_level[piece];
        if (before == level) return before;
        _level[piece] = (byte)level;
        if (before == PieceLevel.High) High.Remove(piece);
        if (before == PieceLevel.Low) Low.Remove(piece);
        if (level == PieceLevel.High) High.Add(piece);
        if (level == PieceLevel.Low) Low.Add(piece);
        return before;
    }

    /// <summary>Wants <paramref name="piece"/> by <paramref name="deadline"/> (any ordered clock value); an earlier one replaces a later one.</summary>
    public void SetDeadline(int piece, long deadline)
    {
        if (DeadlineOf.TryGetValue(piece, out long existing))
        {
            if (existing <= deadline) return;
            Deadlines.Remove((existing, piece));
        }
        DeadlineOf[piece] = deadline;
        Deadlines.Add((deadline, piece));
        if (Deadlines.Count > MaxDeadlines)
        {
            (long, int) last = Deadlines.Max;
            Deadlines.Remove(last);
            DeadlineOf.Remove(last.Item2);
        }
    }

    /// <summary>Drops every deadline.</summary>
    public void ClearDeadlines()
    {
        Deadlines.Clear();
        DeadlineOf.Clear();
    }

    /// <summary>Pieces with a deadline, earliest first (for tests and the status).</summary>
    public IEnumerable<int> DeadlinePieces => Deadlines.Select(d => d.Piece);

    /// <summary>
    /// The first preferred candidate the peer has: a deadline piece, a high-priority one (the rarest), or in sequential
    /// mode the lowest-numbered; -1 when none. <paramref name="isCandidate"/> says whether a piece may be started now.
    /// </summary>
    public int PickPreferred(BitField peerHas, Func<int, bool> isCandidate, Func<int, int> availability, Func<int, bool> isVerified)
    {
        // A deadline piece already started is finished by the picker's first rule; verified ones are dropped by
        // OnPieceVerified.
        foreach ((_, int piece) in Deadlines)
        {
            if (isCandidate(piece) && peerHas[piece]) return piece;
        }
        if (High.Count > 0)
        {
            int best = -1, bestAvailability = int.MaxValue;
            foreach (int piece in High)
            {
                if (!isCandidate(piece) || !peerHas[piece]) continue;
                if (Sequential) return piece;
                int a = availability(piece);
                if (a < bestAvailability) { best = piece; bestAvailability = a; }
            }
            if (best >= 0) return best;
        }
        if (Sequential)
        {
            // Pieces before the cursor are verified; a failed one moves it back (OnPieceMissingAgain).
            while (_sequentialCursor < _level.Length && isVerified(_sequentialCursor)) _sequentialCursor++;
            for (int piece = _sequentialCursor; piece < _level.Length; piece++)
            {
                if (_level[piece] == (byte)PieceLevel.Low || !isCandidate(piece)) continue;
                if (peerHas[piece]) return piece;
            }
        }
        return -1;
    }

    /// <summary>The first low-priority candidate the peer has (in order); -1 when none.</summary>
    public int PickLow(BitField peerHas, Func<int, bool> isCandidate)
    {
        foreach (int piece in Low)
        {
            if (isCandidate(piece) && peerHas[piece]) return piece;
        }
        return -1;
    }

    /// <summary>True when a low-priority candidate is available from some peer (the picker is not in endgame then).</summary>
    public bool AnyLowAvailable(Func<int, bool> isCandidate, Func<int, int> availability)
    {
        foreach (int piece in Low)
        {
            if (isCandidate(piece) && availability(piece) > 0) return true;
        }
        return false;
    }

    /// <summary>A piece that failed goes back to missing: sequential mode looks at it again.</summary>
    public void OnPieceMissingAgain(int piece)
    {
        if (piece < _sequentialCursor) _sequentialCursor = piece;
    }

    /// <summary>A piece was verified: its deadline is met.</summary>
    public void OnPieceVerified(int piece)
    {
        if (_deadlineOf is { } deadlineOf && deadlineOf.Remove(piece, out long deadline)) Deadlines.Remove((deadline, piece));
    }

    private static byte[] CreateLevels(int count)
    {
        var levels = new byte[count];
        Array.Fill(levels, (byte)PieceLevel.Normal);
        return levels;
    }
}

/// <summary>A piece's priority class in the picker.</summary>
internal enum PieceLevel : byte
{
    /// <summary>Picked only when nothing else is left for the peer.</summary>
    Low = 0,

    /// <summary>Rarest first.</summary>
    Normal = 1,

    /// <summary>Before normal pieces.</summary>
    High = 2,
}
