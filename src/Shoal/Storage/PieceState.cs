namespace Shoal.Storage;

/// <summary>
/// Bookkeeping of one piece, guarded by locking the object itself. The lock is only ever held for in-memory
/// work (interval arithmetic, list edits, at most one block copy); never across file I/O or hashing.
/// </summary>
internal sealed class PieceState
{
    /// <summary>Bumped on every reset; work started under an older generation is discarded when it finishes.</summary>
    public int Generation;

    /// <summary>True while one worker owns the piece's hash and is advancing the hashed prefix.</summary>
    public bool Hashing;

    /// <summary>Bytes [0, HashedPrefix) have been written and fed to the hash.</summary>
    public int HashedPrefix;

    /// <summary>
    /// True from the moment a buffered piece is fully hashed until its whole-piece write ends: the piece counts as
    /// complete, resets leave it alone (its buffer is being written) and every new block for it is ignored.
    /// </summary>
    public bool Writing;

    /// <summary>The in-progress data; null when nothing is in progress.</summary>
    public PieceWork? Work;
}

/// <summary>A block written to disk whose bytes wait for the hashed prefix to reach them.</summary>
/// <param name="Start">Offset inside the piece.</param>
/// <param name="Length">Bytes.</param>
/// <param name="Buffer">Pooled copy of the bytes (charged to the write-cache budget), or null when they must be read back from disk.</param>
internal readonly record struct PendingBlock(int Start, int Length, byte[]? Buffer);

/// <summary>The pooled, reusable part of an in-progress piece.</summary>
internal sealed class PieceWork
{
    /// <summary>Merged, sorted, disjoint ranges reserved by accepted blocks (hashed, pending or still being written).</summary>
    public readonly List<(int Start, int End)> Received = new(8);

    /// <summary>Blocks written but not hashed yet, sorted by start, disjoint.</summary>
    public readonly List<PendingBlock> Pending = new(8);

    /// <summary>The piece's running hash, created on first use and reused across pieces.</summary>
    public PieceHasher? Hasher;

    /// <summary>
    /// Buffered mode: a pooled piece-sized buffer the blocks are copied into (charged to the write-cache budget
    /// as <see cref="BufferCharge"/> bytes). Null in direct mode, where blocks go to disk one by one.
    /// </summary>
    public byte[]? Buffer;

    /// <summary>Bytes of the write-cache budget <see cref="Buffer"/> holds.</summary>
    public int BufferCharge;

    /// <summary>End of the received range starting at 0 (0 when the first byte has not arrived).</summary>
    public int ContiguousEnd() => Received.Count > 0 && Received[0].Start == 0 ? Received[0].End : 0;

    /// <summary>How [start, end) relates to what was received: 0 none of it, 1 all of it, 2 part of it.</summary>
    public int Coverage(int start, int end)
    {
        List<(int Start, int End)> r = Received;
        int i = LastStartingAtOrBefore(start);
        if (i >= 0 && r[i].End >= end) return 1;
        if (i >= 0 && r[i].End > start) return 2;
        if (i + 1 < r.Count && r[i + 1].Start < end) return 2;
        return 0;
    }

    /// <summary>The parts of [start, end) not received yet.</summary>
    public List<(int Start, int End)> Gaps(int start, int end)
    {
        var gaps = new List<(int, int)>();
        int pos = start;
        foreach ((int s, int e) in Received)
        {
            if (e <= pos) continue;
            if (s >= end) break;
            if (s > pos) gaps.Add((pos, s));
            pos = Math.Max(pos, e);
            if (pos >= end) break;
        }
        if (pos < end) gaps.Add((pos, end));
        return gaps;
    }

    /// <summary>Marks [start, end) received (it must not overlap anything received), merging with touching neighbours.</summary>
    public void AddReceived(int start, int end)
    {
        List<(int Start, int End)> r = Received;
        int i = LastStartingAtOrBefore(start); // the range before, if any
        bool joinPrev = i >= 0 && r[i].End == start;
        bool joinNext = i + 1 < r.Count && r[i + 1].Start == end;
        if (joinPrev && joinNext)
        {
            r[i] = (r[i].Start, r[i + 1].End);
            r.RemoveAt(i + 1);
        }
        else if (joinPrev) r[i] = (r[i].Start, end);
        else if (joinNext) r[i + 1] = (start, r[i + 1].End);
        else r.Insert(i + 1, (start, end));
    }

    /// <summary>Inserts a pending block keeping the list sorted.</summary>
    public void AddPending(PendingBlock block)
    {
        List<PendingBlock> p = Pending;
        int i = p.Count;
        while (i > 0 && p[i - 1].Start > block.Start) i--; // blocks mostly arrive in order: scan from the end
        p.Insert(i, block);
    }

    private int LastStartingAtOrBefore(int start)
    {
        List<(int Start, int End)> r = Received;
        int lo = 0, hi = r.Count - 1, found = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (r[mid].Start <= start) { found = mid; lo = mid + 1; }
            else hi = mid - 1;
        }
        return found;
    }
}
