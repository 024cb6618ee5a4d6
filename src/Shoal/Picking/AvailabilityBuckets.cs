namespace Shoal.Picking;

/// <summary>
/// The picker's candidates (wanted, unstarted, missing pieces) in one array sorted by availability, split in buckets
/// (one per availability count), so that an availability change is one swap to a bucket border, O(1), and picking a
/// new piece scans from the rarest bucket. Non-candidates (started, received, verified, unwanted pieces) are parked in
/// a zone before bucket 0. Pure; owned by one <see cref="PiecePicker"/>.
/// </summary>
internal sealed class AvailabilityBuckets
{
    private readonly int _pieceCount;
    private readonly int[] _availability;

    // [0, _bucketStart[0]) parked non-candidates, then bucket b = [_bucketStart[b], _bucketStart[b + 1]) holds
    // candidates with availability b. Trailing entries equal _pieceCount and act as sentinels.
    private readonly int[] _order;
    private readonly int[] _position;
    private int[] _bucketStart;

    /// <summary>Every piece parked, all buckets empty.</summary>
    public AvailabilityBuckets(int pieceCount)
    {
        _pieceCount = pieceCount;
        _availability = new int[pieceCount];
        _order = new int[pieceCount];
        _position = new int[pieceCount];
        for (int i = 0; i < pieceCount; i++) { _order[i] = i; _position[i] = i; }
        _bucketStart = new int[16];
        Array.Fill(_bucketStart, pieceCount);
    }

    /// <summary>Bumped when a candidate enters a lower bucket (a decrement, an insert): rarest-first hints are stale then.</summary>
    public int LowerVersion { get; private set; }

    /// <summary>True when some candidate is available from at least one peer.</summary>
    public bool AnyAvailable => _bucketStart[1] != _pieceCount;

    public int Availability(int piece) => _availability[piece];

    public bool IsCandidate(int piece) => _position[piece] >= _bucketStart[0];

    public void Increment(int piece)
    {
        int a = _availability[piece]++;
        EnsureBuckets(a + 1);
        if (!IsCandidate(piece)) return;
        int border = --_bucketStart[a + 1];
        Swap(_position[piece], border);
    }

    public void Decrement(int piece)
    {
        int a = _availability[piece];
        if (a == 0) return; // unbalanced Remove: keep the structure sane rather than corrupt it
        _availability[piece] = a - 1;
        if (!IsCandidate(piece)) return;
        LowerVersion++;
        int border = _bucketStart[a]++;
        Swap(_position[piece], border);
    }

    /// <summary>Parks a candidate (it was started, verified, made unwanted).</summary>
    public void Remove(int piece)
    {
        for (int b = _availability[piece]; b >= 0; b--)
        {
            int border = _bucketStart[b]++;
            Swap(_position[piece], border);
        }
    }

    /// <summary>Makes a parked piece a candidate again, in the bucket of its availability.</summary>
    public void Insert(int piece)
    {
        int a = _availability[piece];
        EnsureBuckets(a);
        LowerVersion++;
        for (int b = 0; b <= a; b++)
        {
            int border = --_bucketStart[b];
            Swap(_position[piece], border);
        }
    }

    /// <summary>A candidate the peer has, found from a random point among all candidates; -1 when none.</summary>
    public int PickAny(BitField peerHas, Random random) => ScanFromRandom(_bucketStart[0], _pieceCount, peerHas, random);

    /// <summary>
    /// The rarest candidate the peer has, from a random point in its bucket; -1 when none. <paramref name="peer"/>
    /// remembers the lowest bucket that held one for it, so a partial peer does not rescan rare buckets in vain.
    /// </summary>
    public int PickRarest(PeerPickState peer, BitField peerHas, Random random)
    {
        // Rare pieces are by nature missing from most peers, so a partial peer would scan whole rare buckets
        // in vain on every new piece. The hint remembers the lowest bucket that can hold a piece this peer
        // has: it stays true while the peer gains nothing and no candidate moves down or comes back.
        int first = peer.HintVersion == LowerVersion && peer.HintSetCount == peerHas.SetCount ? peer.HintLevel : 0;
        for (int b = first; b < _bucketStart.Length - 1; b++)
        {
            int start = _bucketStart[b], end = _bucketStart[b + 1];
            if (start == _pieceCount) break;
            if (start == end) continue;
            int piece = ScanFromRandom(start, end, peerHas, random);
            if (piece >= 0)
            {
                peer.HintLevel = b;
                peer.HintVersion = LowerVersion;
                peer.HintSetCount = peerHas.SetCount;
                return piece;
            }
        }
        return -1;
    }

    private int ScanFromRandom(int start, int end, BitField peerHas, Random random)
    {
        if (start >= end) return -1;
        int from = start + random.Next(end - start);
        ReadOnlySpan<byte> bits = peerHas.Bytes;
        ReadOnlySpan<int> order = _order;
        int found = FirstHeld(order[from..end], bits);
        if (found < 0) found = FirstHeld(order[start..from], bits);
        return found;
    }

    // The hot loop of a new-piece pick: reads the wire bytes directly instead of the checked indexer.
    private static int FirstHeld(ReadOnlySpan<int> pieces, ReadOnlySpan<byte> bits)
    {
        foreach (int p in pieces)
            if ((bits[p >> 3] & (0x80 >> (p & 7))) != 0) return p;
        return -1;
    }

    private void EnsureBuckets(int availability)
    {
        if (availability + 2 <= _bucketStart.Length) return;
        int old = _bucketStart.Length;
        Array.Resize(ref _bucketStart, Math.Max(old * 2, availability + 2));
        Array.Fill(_bucketStart, _pieceCount, old, _bucketStart.Length - old);
    }

    private void Swap(int i, int j)
    {
        if (i == j) return;
        int a = _order[i], b = _order[j];
        _order[i] = b; _position[b] = i;
        _order[j] = a; _position[a] = j;
    }
}

/// <summary>What the picker remembers per peer: the piece it worked on last, and when scanning for it is pointless.</summary>
internal sealed class PeerPickState
{
    public int CurrentPiece = -1;
    public int NothingAtVersion = -1;
    public int NothingAtSetCount = -1;
    public int HintLevel;
    public int HintVersion = -1;
    public int HintSetCount = -1;
}
