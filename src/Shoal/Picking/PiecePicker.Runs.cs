namespace Shoal.Picking;

// Runs for web seeds
// ==================
//
// A web seed (BEP 19 'url-list', BEP 17 'httpseeds') has every piece and is asked for byte ranges over HTTP, so it
// is best given many pieces in a row: one ranged GET streams them, the server reads ahead, and its logs show a few
// requests rather than one per block. PickRun hands a source a run of blocks that are contiguous in the torrent's
// byte stream, in this order:
//
//  1. Whole unstarted pieces, continuing right after the source's previous run when that piece is still unstarted
//     (one connection streams through the data), else from the start of the longest gap of unstarted wanted pieces
//     (BEP 19: where a stream runs longest before it meets a piece we have or someone else is fetching). Pieces are
//     taken while they fit whole in the destination; only a piece larger than the destination is cut.
//  2. With no unstarted piece left: the first stretch of unrequested blocks of a started piece (a peer choked us or
//     left, a web seed request failed halfway), going on into the following pieces while they continue it.
//  3. Endgame (nothing unrequested anywhere), when the caller allows it: a stretch of blocks requested once by some
//     other source, so a slow peer holding the last blocks does not hold up the end.
//
// Peers keep picking rarest first among the pieces they have, and web seeds pick gaps, so the two rarely want the
// same piece. The caller bounds each run (a few seconds of the source's rate), so a web seed never holds more pieces
// than it can fetch soon and peers always find pieces left to request: they are not starved.

public sealed partial class PiecePicker
{
    /// <summary>
    /// Picks a run of blocks, contiguous in the torrent's byte stream, for a source that has every piece and is asked
    /// for byte ranges (a web seed); the rules are written at the top of this file. The blocks are marked requested by
    /// <paramref name="sourceKey"/> as <see cref="PickBlocks"/> marks a peer's, and go back with
    /// <see cref="OnRequestDropped"/>. Returns how many blocks were written, in stream order.
    /// </summary>
    /// <param name="sourceKey">The source's key, distinct from every peer's and every other source's.</param>
    /// <param name="preferredStart">The piece right after the source's previous run, or -1.</param>
    /// <param name="allowDuplicates">True to hand out endgame duplicates when nothing else is left.</param>
    /// <param name="destination">Room for the run: its length bounds the run.</param>
    public int PickRun(int sourceKey, int preferredStart, bool allowDuplicates, Span<BlockRequest> destination)
    {
        if (destination.IsEmpty || _missingWanted == 0) return 0;
        int start = IsUnstarted(preferredStart) ? preferredStart : LongestGapStart();
        if (start >= 0) return TakeWholePieces(sourceKey, start, destination);
        int n = TakeOpenStretch(sourceKey, destination);
        if (n > 0 || !allowDuplicates || _open.Count > 0 || _active.Count == 0) return n;
        return TakeDuplicateStretch(sourceKey, destination);
    }

    private bool IsUnstarted(int piece) => (uint)piece < (uint)_pieceCount && _state[piece] == StateMissing && !_unwanted[piece];

    /// <summary>The first piece of the longest run of unstarted wanted pieces (the first such run on a tie), or -1.</summary>
    private int LongestGapStart()
    {
        int bestStart = -1, bestLength = 0, runStart = -1;
        for (int p = 0; p < _pieceCount; p++)
        {
            if (_state[p] == StateMissing && !_unwanted[p])
            {
                if (runStart < 0) runStart = p;
                continue;
            }
            if (runStart >= 0 && p - runStart > bestLength) (bestStart, bestLength) = (runStart, p - runStart);
            runStart = -1;
        }
        if (runStart >= 0 && _pieceCount - runStart > bestLength) bestStart = runStart;
        return bestStart;
    }

    private int TakeWholePieces(int sourceKey, int start, Span<BlockRequest> destination)
    {
        int n = 0;
        for (int piece = start; piece < _pieceCount && n < destination.Length && IsUnstarted(piece); piece++)
        {
            // Whole pieces only, except a first piece larger than the whole destination.
            if (n > 0 && BlockCount(piece) > destination.Length - n) break;
            n += Take(Start(piece), sourceKey, destination[n..]);
        }
        return n;
    }

    /// <summary>
    /// The first stretch of unrequested blocks in a started piece. A stretch that reaches the end of its piece goes on
    /// into the next piece while that one starts with an unrequested block (or is unstarted and fits whole): the pieces
    /// of a failed run come back like that, and are then fetched again with one request, not one per piece.
    /// </summary>
    private int TakeOpenStretch(int sourceKey, Span<BlockRequest> destination)
    {
        for (int i = 0; i < _open.Count; i++)
        {
            int n = TakeStretch(_open[i], sourceKey, destination);
            if (n == 0) continue;
            for (int piece = destination[n - 1].Piece + 1; n < destination.Length && piece < _pieceCount && EndsPiece(destination[n - 1]); piece++)
            {
                PartialPiece? next;
                if (IsUnstarted(piece)) next = BlockCount(piece) <= destination.Length - n ? Start(piece) : null;
                else next = _partials[piece] is { OpenIndex: >= 0 } open && StartsUnrequested(open) ? open : null;
                if (next is null) break;
                n += TakeStretch(next, sourceKey, destination[n..]);
            }
            return n;
        }
        return 0;
    }

    private bool EndsPiece(BlockRequest block) => block.Offset + block.Length == PieceSize(block.Piece);

    private static bool StartsUnrequested(PartialPiece pp)
    {
        pp.AdvanceCursor();
        return pp.Cursor == 0;
    }

    /// <summary>The unrequested blocks of <paramref name="pp"/> from its cursor up to the first block received or requested.</summary>
    private int TakeStretch(PartialPiece pp, int sourceKey, Span<BlockRequest> destination)
    {
        pp.AdvanceCursor();
        int n = 0;
        int pieceSize = PieceSize(pp.Piece);
        for (int b = pp.Cursor; b < pp.BlockCount && n < destination.Length && !pp.Received[b] && pp.RequesterCount[b] == 0; b++)
        {
            pp.AddRequester(b, sourceKey);
            int offset = b * BlockLength;
            destination[n++] = new BlockRequest(pp.Piece, offset, Math.Min(BlockLength, pieceSize - offset));
        }
        pp.AdvanceCursor();
        if (pp.Unrequested == 0 && pp.OpenIndex >= 0) RemoveOpen(pp);
        return n;
    }

    /// <summary>Endgame: the first stretch of blocks requested by exactly one other source, rotating over the pieces in flight.</summary>
    private int TakeDuplicateStretch(int sourceKey, Span<BlockRequest> destination)
    {
        int count = _active.Count;
        int start = _endgameCursor % count;
        _endgameCursor = start + 1;
        for (int k = 0; k < count; k++)
        {
            PartialPiece pp = _active[(start + k) % count];
            if (pp.Single == 0 || _unwanted[pp.Piece]) continue;
            int n = 0;
            int pieceSize = PieceSize(pp.Piece);
            for (int b = 0; b < pp.BlockCount && n < destination.Length; b++)
            {
                bool duplicable = !pp.Received[b] && pp.RequesterCount[b] == 1 && pp.Requesters[b * PartialPiece.MaxRequesters] != sourceKey;
                if (!duplicable)
                {
                    if (n > 0) break; // a stretch ends at the first block that cannot join it
                    continue;
                }
                pp.AddRequester(b, sourceKey);
                int offset = b * BlockLength;
                destination[n++] = new BlockRequest(pp.Piece, offset, Math.Min(BlockLength, pieceSize - offset));
            }
            if (n > 0) return n;
        }
        return 0;
    }
}
