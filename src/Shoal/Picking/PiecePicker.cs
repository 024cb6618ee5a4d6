using System.Numerics;
using System.Runtime.InteropServices;

namespace Shoal.Picking;

// Picking rules
// =============
//
// The picker decides which blocks (16 KiB slices of a piece) to request from which peer. It is pure: no
// I/O, no clock, randomness from the injected Random, not thread-safe (the torrent actor owns it).
//
// Per call to PickBlocks(peer), blocks are taken in this order until the destination is full:
//
//  1. Finish what is started. First the piece this peer worked on last (so one peer tends to fill one
//     piece, which keeps a piece from depending on many peers), then any other started piece the peer
//     has with unrequested blocks, the one with the fewest unrequested blocks first (closest to done).
//     Pieces only turn into verified data (and into HAVEs we can trade) when complete.
//  2. Random first: while we have fewer than RandomFirstPieces (4) verified pieces, a new piece is picked
//     at random among the wanted pieces the peer has. Rare pieces are slow to fetch (few sources), and at
//     the start what matters is to get any complete piece quickly to have something to upload.
//  3. Rarest first: afterwards, the new piece is the one the fewest connected peers have, ties broken at
//     random (so peers downloading from the same swarm do not all fetch the same piece). Rare pieces are
//     fetched while their sources are still around, and what we then hold is what others want.
//  4. Endgame: once no block is left unrequested (every missing block of every wanted piece is requested
//     and no wanted, unstarted piece is available from any peer), a block already requested from another
//     peer (not this one) is requested again, up to PartialPiece.MaxRequesters (2) requesters per block,
//     so a slow peer holding the last blocks does not stall completion. When a block arrives the other
//     requesters are reported so the caller can CANCEL.
//
// Never picked: pieces the peer does not have, pieces we have, pieces fully received and waiting for the
// hash check, and unwanted pieces (file selection). A block is never requested twice from the same peer.
//
// Data structures (so the per-block cost does not grow with the torrent):
//  - Wanted, unstarted, missing pieces ("candidates") live in one array sorted by availability, split in
//    buckets (one per availability count); a piece's availability change is one swap to a bucket border,
//    O(1). Started, received, verified and unwanted pieces are parked in a zone before bucket 0. Picking
//    a new piece scans buckets from the rarest, starting at a random point inside each bucket; the scan
//    stops at the first piece the peer has, and a per-peer "nothing for you" mark (invalidated only when
//    a piece becomes a candidate or a peer announces a candidate) avoids rescanning for a peer that has
//    nothing new. Only new pieces need this scan; blocks of started pieces come from step 1. As rare pieces
//    are missing from most peers, each peer also remembers the lowest bucket where it found a piece; the
//    scan restarts there until that peer gains a piece or a candidate moves to a lower bucket.
//  - Block state exists only for started pieces (pooled PartialPiece objects), with counters so a piece
//    with nothing to hand out is skipped without looking at its blocks. The "open" list holds started,
//    wanted pieces that still have unrequested blocks; it is what step 1 scans.
//  - The picker keeps its own copy of the verified pieces ("have"), copied from the constructor argument
//    and updated by OnPieceVerified/OnPieceFailed; the caller's BitField is not referenced afterwards.
//  - Availability counts the peers registered with AddPeer/PeerHasPiece and not yet removed.

/// <summary>
/// Decides which blocks to request from which peer: partial pieces first, random first pieces, then
/// rarest first, then endgame duplicates. The rules are written at the top of this file. Pure and
/// deterministic for a given <see cref="Random"/>; not thread-safe (owned by the torrent actor).
/// </summary>
public sealed partial class PiecePicker
{
    /// <summary>The block size every client uses (BEP 3: requests larger than 16 KiB may be refused).</summary>
    public const int BlockLength = 16 * 1024;

    /// <summary>Number of verified pieces under which new pieces are picked at random, not rarest first.</summary>
    public const int RandomFirstPieces = 4;

    /// <summary>Most peers one block is requested from at once (endgame duplicates).</summary>
    public const int MaxRequestersPerBlock = PartialPiece.MaxRequesters;

    private const byte StateMissing = 0;   // not started (a candidate when wanted)
    private const byte StatePartial = 1;   // started: has a PartialPiece
    private const byte StateReceived = 2;  // every block received, waiting for the hash check
    private const byte StateHave = 3;      // verified

    private readonly int _pieceCount;
    private readonly int _pieceLength;
    private readonly int _lastPieceLength;
    private readonly int _maxBlocksPerPiece;
    private readonly Random _random;

    private readonly BitField _have;
    private readonly byte[] _needed;       // wire bit layout: wanted and not verified (for IsInteresting)
    private readonly bool[] _unwanted;
    private readonly byte[] _state;
    private readonly AvailabilityBuckets _candidates;
    private readonly PiecePreferences _prefs;

    private readonly PartialPiece?[] _partials;
    private readonly List<PartialPiece> _active = new();
    private readonly List<PartialPiece> _open = new();
    private readonly Stack<PartialPiece> _pool = new();
    private Dictionary<int, PeerPickState>? _peers;
    private Dictionary<int, PeerPickState> PeerStates => _peers ??= new();

    private int _candidateVersion;   // bumped when a candidate appears or a peer announces one
    private int _missingWanted;
    private int _endgameCursor;

    /// <summary>Creates a picker for a torrent.</summary>
    /// <param name="pieceCount">Number of pieces; must equal ceil(totalSize / pieceLength).</param>
    /// <param name="pieceLength">Nominal piece length in bytes (the last piece may be shorter).</param>
    /// <param name="totalSize">Total torrent size in bytes.</param>
    /// <param name="have">Pieces already verified (copied; later changes go through <see cref="OnPieceVerified"/>).</param>
    /// <param name="random">Source of randomness (inject a seeded one for deterministic tests).</param>
    public PiecePicker(int pieceCount, int pieceLength, long totalSize, BitField have, Random random)
    {
        ArgumentNullException.ThrowIfNull(have);
        ArgumentNullException.ThrowIfNull(random);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pieceCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pieceLength);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(totalSize);
        if ((totalSize + pieceLength - 1) / pieceLength != pieceCount)
            throw new ArgumentException($"{pieceCount} pieces of {pieceLength} bytes do not make {totalSize} bytes", nameof(pieceCount));
        if (have.Length != pieceCount)
            throw new ArgumentException($"have has {have.Length} bits, expected {pieceCount}", nameof(have));

        _pieceCount = pieceCount;
        _pieceLength = pieceLength;
        _lastPieceLength = (int)(totalSize - (long)(pieceCount - 1) * pieceLength);
        _maxBlocksPerPiece = (pieceLength + BlockLength - 1) / BlockLength;
        _random = random;

        _have = new BitField(pieceCount);
        _have.CopyFrom(have);
        _needed = new byte[(pieceCount + 7) / 8];
        _unwanted = new bool[pieceCount];
        _state = new byte[pieceCount];
        _partials = new PartialPiece?[pieceCount];
        _candidates = new AvailabilityBuckets(pieceCount);
        _prefs = new PiecePreferences(pieceCount);

        for (int p = pieceCount - 1; p >= 0; p--)
        {
            if (_have[p]) { _state[p] = StateHave; continue; }
            _state[p] = StateMissing;
            _missingWanted++;
            SetNeeded(p, true);
            _candidates.Insert(p);
        }
    }

    /// <summary>Number of pieces.</summary>
    public int PieceCount => _pieceCount;

    /// <summary>True when every wanted piece is verified.</summary>
    public bool IsComplete => _missingWanted == 0;

    /// <summary>Wanted pieces not verified yet (including those fully received and waiting for the hash check).</summary>
    public int MissingPieces => _missingWanted;

    /// <summary>Number of started pieces with block state (in flight).</summary>
    public int PartialPieces => _active.Count;

    /// <summary>The pieces with blocks requested or received but not verified yet, ascending (a copy).</summary>
    internal int[] PartialPieceIndices()
    {
        var pieces = new int[_active.Count];
        for (int i = 0; i < pieces.Length; i++) pieces[i] = _active[i].Piece;
        Array.Sort(pieces);
        return pieces;
    }

    /// <summary>
    /// True when every block still missing is already requested: no wanted piece has an unrequested block
    /// and no wanted, unstarted piece is available from a registered peer. <see cref="PickBlocks"/> then
    /// hands out duplicates.
    /// </summary>
    public bool InEndgame => _missingWanted > 0 && _open.Count == 0 && !_candidates.AnyAvailable && _active.Count > 0
        && (_prefs.LowCount == 0 || !_prefs.AnyLowAvailable(_isCandidate ??= IsCandidate, _availabilityOf ??= Availability));

    /// <summary>True when piece <paramref name="piece"/> is verified.</summary>
    public bool HasPiece(int piece) => _have[piece];

    /// <summary>Number of registered peers that have <paramref name="piece"/>.</summary>
    public int Availability(int piece) => _candidates.Availability(CheckPiece(piece));

    /// <summary>Length in bytes of <paramref name="piece"/> (the last piece may be shorter).</summary>
    public int PieceSize(int piece) => CheckPiece(piece) == _pieceCount - 1 ? _lastPieceLength : _pieceLength;

    /// <summary>Number of blocks in <paramref name="piece"/>.</summary>
    public int BlockCount(int piece) => (PieceSize(piece) + BlockLength - 1) / BlockLength;

    /// <summary>True when <paramref name="piece"/> is wanted and not verified (a HAVE for it makes the peer interesting).</summary>
    public bool IsPieceNeeded(int piece) => (_needed[CheckPiece(piece) >> 3] & (0x80 >> (piece & 7))) != 0;

    // ---------------------------------------------------------------- availability

    /// <summary>Registers a peer's pieces (its BITFIELD, or HAVE ALL). O(pieces), once per peer.</summary>
    public void AddPeer(BitField peerHas)
    {
        CheckField(peerHas);
        foreach (int piece in peerHas.SetBits) _candidates.Increment(piece);
        _candidateVersion++;
    }

    /// <summary>Unregisters a peer's pieces (its current BitField) when it disconnects. See also <see cref="ForgetPeer"/>.</summary>
    public void RemovePeer(BitField peerHas)
    {
        CheckField(peerHas);
        foreach (int piece in peerHas.SetBits) _candidates.Decrement(piece);
    }

    /// <summary>A registered peer announced <paramref name="piece"/> (HAVE); the caller already set its own bit.</summary>
    public void PeerHasPiece(int piece)
    {
        _candidates.Increment(CheckPiece(piece));
        if (_candidates.IsCandidate(piece)) _candidateVersion++;
    }

    /// <summary>
    /// Releases every request held by <paramref name="peerKey"/> (as <see cref="OnRequestDropped"/> would, one by
    /// one) and forgets the per-peer picking state. Call when a peer disconnects; O(blocks in flight).
    /// </summary>
    public void ForgetPeer(int peerKey)
    {
        for (int i = 0; i < _active.Count; i++)
        {
            PartialPiece pp = _active[i];
            if (pp.Unrequested + pp.ReceivedCount == pp.BlockCount) continue; // nothing requested
            for (int b = 0; b < pp.BlockCount; b++)
                if (pp.RequesterCount[b] != 0 && pp.RemoveRequester(b, peerKey)) Reopen(pp);
        }
        PeerStates.Remove(peerKey);
    }

    /// <summary>True when the peer has a wanted piece we have not verified (we should be interested).</summary>
    public bool IsInteresting(BitField peerHas)
    {
        CheckField(peerHas);
        ReadOnlySpan<byte> theirs = peerHas.Bytes;
        ReadOnlySpan<byte> needed = _needed;
        int i = 0;
        ReadOnlySpan<ulong> theirs64 = MemoryMarshal.Cast<byte, ulong>(theirs);
        ReadOnlySpan<ulong> needed64 = MemoryMarshal.Cast<byte, ulong>(needed);
        for (; i < theirs64.Length; i++)
            if ((theirs64[i] & needed64[i]) != 0) return true;
        for (i *= 8; i < theirs.Length; i++)
            if ((theirs[i] & needed[i]) != 0) return true;
        return false;
    }

    // ---------------------------------------------------------------- picking

    /// <summary>
    /// Picks up to <paramref name="destination"/>.Length blocks to request from a peer (unchoked by it) and marks
    /// them requested by <paramref name="peerKey"/>. Returns how many were written. Allocation-free except the
    /// first time a peer key is seen.
    /// </summary>
    public int PickBlocks(int peerKey, BitField peerHas, Span<BlockRequest> destination)
    {
        CheckField(peerHas);
        if (destination.IsEmpty || _missingWanted == 0) return 0;
        PeerPickState peer = GetPeer(peerKey);
        int n = 0;

        // 1a. the piece this peer worked on last
        int current = peer.CurrentPiece;
        if (current >= 0 && _partials[current] is { } mine && mine.OpenIndex >= 0 && peerHas[current])
            n += Take(mine, peerKey, destination);

        // 1b. other started pieces, closest to fully requested first
        while (n < destination.Length)
        {
            PartialPiece? best = null;
            for (int i = 0; i < _open.Count; i++)
            {
                PartialPiece pp = _open[i];
                if ((best == null || pp.Unrequested < best.Unrequested) && peerHas[pp.Piece]) best = pp;
            }
            if (best == null) break;
            peer.CurrentPiece = best.Piece;
            n += Take(best, peerKey, destination[n..]);
        }

        // 2-3. new pieces: random first, then rarest first
        while (n < destination.Length)
        {
            int piece = PickNewPiece(peer, peerHas);
            if (piece < 0) break;
            PartialPiece pp = Start(piece);
            peer.CurrentPiece = piece;
            n += Take(pp, peerKey, destination[n..]);
        }

        // 4. endgame: duplicate requests of blocks requested from other peers
        if (n < destination.Length && InEndgame)
            n += TakeDuplicates(peerKey, peerHas, destination[n..]);
        return n;
    }

    /// <summary>
    /// Picks blocks from the peer's allowed-fast pieces (BEP 6) while it chokes us. Entries out of range or not
    /// worth requesting are skipped (the list comes from the wire). Endgame duplicates are allowed as in
    /// <see cref="PickBlocks"/>.
    /// </summary>
    public int PickAllowedFast(int peerKey, BitField peerHas, IReadOnlyList<int> allowedFastPieces, Span<BlockRequest> destination)
    {
        CheckField(peerHas);
        ArgumentNullException.ThrowIfNull(allowedFastPieces);
        int n = 0;
        for (int i = 0; i < allowedFastPieces.Count && n < destination.Length; i++)
        {
            int piece = allowedFastPieces[i];
            if ((uint)piece >= (uint)_pieceCount || _unwanted[piece] || !peerHas[piece]) continue;
            PartialPiece? pp = _state[piece] switch
            {
                StateMissing => Start(piece),
                StatePartial => _partials[piece],
                _ => null,
            };
            if (pp == null) continue;
            n += Take(pp, peerKey, destination[n..]);
            if (n < destination.Length && InEndgame)
                n += TakeDuplicatesFrom(pp, peerKey, destination[n..]);
        }
        return n;
    }

    // ---------------------------------------------------------------- events

    /// <summary>
    /// Records a received block. Returns false when the block is not wanted (already received, piece not in
    /// flight, verified or fully received, or not a valid block of this torrent): the caller drops the data.
    /// <paramref name="cancelPeers"/> is cleared, then filled with the other peers that had requested this
    /// block (endgame) so the caller can send them CANCEL. A block that arrives after its request was dropped
    /// (late delivery) is still accepted when missing.
    /// </summary>
    public bool OnBlockReceived(int peerKey, BlockRequest block, List<int> cancelPeers)
    {
        ArgumentNullException.ThrowIfNull(cancelPeers);
        cancelPeers.Clear();
        if (!TryGetBlock(block, out int b)) return false;
        PartialPiece? pp = _partials[block.Piece];
        if (pp == null || pp.Received[b]) return false;

        int count = pp.RequesterCount[b];
        for (int i = 0; i < count; i++)
        {
            int other = pp.Requesters[b * PartialPiece.MaxRequesters + i];
            if (other != peerKey) cancelPeers.Add(other);
        }
        if (count == 0) pp.Unrequested--;
        else if (count == 1) pp.Single--;
        pp.RequesterCount[b] = 0;
        pp.Received[b] = true;
        pp.ReceivedCount++;

        if (pp.ReceivedCount == pp.BlockCount)
        {
            Release(pp);
            _state[block.Piece] = StateReceived;
        }
        else if (pp.Unrequested == 0 && pp.OpenIndex >= 0)
        {
            RemoveOpen(pp);
        }
        return true;
    }

    /// <summary>
    /// The peer will not deliver this block (choked us without fast extension, REJECT, timeout, disconnect).
    /// The block becomes pickable again unless another peer still has it requested. Unknown blocks are ignored.
    /// </summary>
    public void OnRequestDropped(int peerKey, BlockRequest block)
    {
        if (!TryGetBlock(block, out int b)) return;
        PartialPiece? pp = _partials[block.Piece];
        if (pp == null || pp.Received[b]) return;
        if (pp.RemoveRequester(b, peerKey)) Reopen(pp);
    }

    /// <summary>The piece passed its hash check (or was found complete on disk).</summary>
    public void OnPieceVerified(int piece)
    {
        CheckPiece(piece);
        byte state = _state[piece];
        if (state == StateHave) return;
        if (state == StatePartial) Release(_partials[piece]!);
        else if (state == StateMissing && _candidates.IsCandidate(piece)) _candidates.Remove(piece);
        _state[piece] = StateHave;
        _have[piece] = true;
        _prefs.OnPieceVerified(piece);
        if (!_unwanted[piece]) { _missingWanted--; SetNeeded(piece, false); }
    }

    /// <summary>
    /// The piece failed its hash check (or was lost): every block goes back to missing and outstanding
    /// requests for it are forgotten (blocks still arriving for it are then refused by <see cref="OnBlockReceived"/>).
    /// </summary>
    public void OnPieceFailed(int piece)
    {
        CheckPiece(piece);
        byte state = _state[piece];
        if (state == StateMissing) return;
        if (state == StatePartial) Release(_partials[piece]!);
        if (state == StateHave)
        {
            _have[piece] = false;
            if (!_unwanted[piece]) { _missingWanted++; SetNeeded(piece, true); }
        }
        _state[piece] = StateMissing;
        _prefs.OnPieceMissingAgain(piece);
        if (!_unwanted[piece])
        {
            if (InBuckets(piece)) _candidates.Insert(piece);
            _candidateVersion++;
        }
    }

    /// <summary>
    /// File selection: unwanted pieces are never picked and count neither for <see cref="IsComplete"/> nor for
    /// <see cref="IsInteresting"/>. Blocks already requested for a piece made unwanted are still accepted.
    /// </summary>
    public void SetPieceWanted(int piece, bool wanted)
    {
        CheckPiece(piece);
        if (_unwanted[piece] == !wanted) return;
        byte state = _state[piece];
        if (wanted)
        {
            _unwanted[piece] = false;
            if (state == StateHave) return;
            _missingWanted++;
            SetNeeded(piece, true);
            if (state == StateMissing) { if (InBuckets(piece)) _candidates.Insert(piece); _candidateVersion++; }
            else if (state == StatePartial) Reopen(_partials[piece]!);
        }
        else
        {
            if (state != StateHave)
            {
                _missingWanted--;
                SetNeeded(piece, false);
                if (state == StateMissing && _candidates.IsCandidate(piece)) _candidates.Remove(piece);
                else if (state == StatePartial && _partials[piece]!.OpenIndex >= 0) RemoveOpen(_partials[piece]!);
            }
            _unwanted[piece] = true;
        }
    }

    // ---------------------------------------------------------------- internals: blocks

    private int Take(PartialPiece pp, int peerKey, Span<BlockRequest> destination)
    {
        int n = 0;
        int piece = pp.Piece;
        int pieceSize = PieceSize(piece);
        pp.AdvanceCursor();
        for (int b = pp.Cursor; b < pp.BlockCount && n < destination.Length && pp.Unrequested > 0; b++)
        {
            if (pp.Received[b] || pp.RequesterCount[b] != 0) continue;
            pp.AddRequester(b, peerKey);
            int offset = b * BlockLength;
            destination[n++] = new BlockRequest(piece, offset, Math.Min(BlockLength, pieceSize - offset));
        }
        pp.AdvanceCursor();
        if (pp.Unrequested == 0 && pp.OpenIndex >= 0) RemoveOpen(pp);
        return n;
    }

    private int TakeDuplicates(int peerKey, BitField peerHas, Span<BlockRequest> destination)
    {
        // Rotate the starting piece so several peers entering endgame spread over the remaining pieces.
        int n = 0;
        int count = _active.Count;
        if (count == 0) return 0;
        int start = _endgameCursor % count;
        for (int k = 0; k < count && n < destination.Length; k++)
        {
            PartialPiece pp = _active[(start + k) % count];
            if (pp.Single == 0 || _unwanted[pp.Piece] || !peerHas[pp.Piece]) continue;
            n += TakeDuplicatesFrom(pp, peerKey, destination[n..]);
        }
        _endgameCursor = start + 1;
        return n;
    }

    private int TakeDuplicatesFrom(PartialPiece pp, int peerKey, Span<BlockRequest> destination)
    {
        int n = 0;
        int pieceSize = PieceSize(pp.Piece);
        for (int b = 0; b < pp.BlockCount && n < destination.Length && pp.Single > 0; b++)
        {
            if (pp.Received[b] || pp.RequesterCount[b] != 1 || pp.Requesters[b * PartialPiece.MaxRequesters] == peerKey) continue;
            pp.AddRequester(b, peerKey);
            int offset = b * BlockLength;
            destination[n++] = new BlockRequest(pp.Piece, offset, Math.Min(BlockLength, pieceSize - offset));
        }
        return n;
    }

    private bool TryGetBlock(BlockRequest block, out int blockIndex)
    {
        blockIndex = 0;
        if ((uint)block.Piece >= (uint)_pieceCount || block.Offset < 0 || block.Offset % BlockLength != 0) return false;
        int size = PieceSize(block.Piece);
        if (block.Offset >= size || block.Length != Math.Min(BlockLength, size - block.Offset)) return false;
        blockIndex = block.Offset / BlockLength;
        return true;
    }

    private PartialPiece Start(int piece)
    {
        if (_candidates.IsCandidate(piece)) _candidates.Remove(piece);
        _state[piece] = StatePartial;
        PartialPiece pp = _pool.Count > 0 ? _pool.Pop() : new PartialPiece(_maxBlocksPerPiece);
        pp.Init(piece, BlockCount(piece));
        _partials[piece] = pp;
        pp.ActiveIndex = _active.Count;
        _active.Add(pp);
        pp.OpenIndex = _open.Count;
        _open.Add(pp);
        return pp;
    }

    private void Release(PartialPiece pp)
    {
        if (pp.OpenIndex >= 0) RemoveOpen(pp);
        int i = pp.ActiveIndex;
        PartialPiece last = _active[^1];
        _active[i] = last;
        last.ActiveIndex = i;
        _active.RemoveAt(_active.Count - 1);
        pp.ActiveIndex = -1;
        _partials[pp.Piece] = null;
        _pool.Push(pp);
    }

    private void Reopen(PartialPiece pp)
    {
        if (pp.OpenIndex >= 0 || pp.Unrequested == 0 || _unwanted[pp.Piece]) return;
        pp.OpenIndex = _open.Count;
        _open.Add(pp);
    }

    private void RemoveOpen(PartialPiece pp)
    {
        int i = pp.OpenIndex;
        PartialPiece last = _open[^1];
        _open[i] = last;
        last.OpenIndex = i;
        _open.RemoveAt(_open.Count - 1);
        pp.OpenIndex = -1;
    }

    // ---------------------------------------------------------------- internals: candidates (see AvailabilityBuckets)

    private int PickNewPiece(PeerPickState peer, BitField peerHas)
    {
        if (peer.NothingAtVersion == _candidateVersion && peer.NothingAtSetCount == peerHas.SetCount) return -1;
        int piece = _prefs.IsNeutral ? -1
            : _prefs.PickPreferred(peerHas, _isCandidate ??= IsCandidate, _availabilityOf ??= Availability, _isVerified ??= HasPiece);
        if (piece < 0)
        {
            piece = _have.SetCount < RandomFirstPieces
                ? _candidates.PickAny(peerHas, _random)
                : _candidates.PickRarest(peer, peerHas, _random);
        }
        if (piece < 0 && _prefs.LowCount > 0) piece = _prefs.PickLow(peerHas, _isCandidate ??= IsCandidate);
        if (piece < 0)
        {
            peer.NothingAtVersion = _candidateVersion;
            peer.NothingAtSetCount = peerHas.SetCount;
        }
        return piece;
    }

    private void SetNeeded(int piece, bool needed)
    {
        byte mask = (byte)(0x80 >> (piece & 7));
        if (needed) _needed[piece >> 3] |= mask;
        else _needed[piece >> 3] &= (byte)~mask;
    }

    private PeerPickState GetPeer(int peerKey)
    {
        ref PeerPickState? slot = ref CollectionsMarshal.GetValueRefOrAddDefault(PeerStates, peerKey, out _);
        return slot ??= new PeerPickState();
    }

    private int CheckPiece(int piece)
    {
        if ((uint)piece >= (uint)_pieceCount)
            throw new ArgumentOutOfRangeException(nameof(piece), piece, $"piece index must be below {_pieceCount}");
        return piece;
    }

    private void CheckField(BitField peerHas)
    {
        ArgumentNullException.ThrowIfNull(peerHas);
        if (peerHas.Length != _pieceCount)
            throw new ArgumentException($"bitfield has {peerHas.Length} bits, expected {_pieceCount}", nameof(peerHas));
    }
}
