namespace Shoal.Picking;

/// <summary>
/// Block-level state of one piece that has been started but not fully received. Pooled by
/// <see cref="PiecePicker"/>: only started pieces carry per-block state, so memory follows the number of
/// pieces in flight, not the torrent size.
/// </summary>
internal sealed class PartialPiece
{
    /// <summary>Most requesters one block may have (2 = one duplicate in endgame).</summary>
    public const int MaxRequesters = 2;

    public PartialPiece(int capacity)
    {
        Received = new bool[capacity];
        RequesterCount = new byte[capacity];
        Requesters = new int[capacity * MaxRequesters];
    }

    public int Piece;
    public int BlockCount;

    /// <summary>Blocks received so far.</summary>
    public int ReceivedCount;

    /// <summary>Blocks neither received nor requested by anyone.</summary>
    public int Unrequested;

    /// <summary>Blocks not received and requested by exactly one peer (endgame duplicate candidates).</summary>
    public int Single;

    /// <summary>No block below this index is unrequested (amortises the scan for the next block).</summary>
    public int Cursor;

    /// <summary>Index in the picker's active list.</summary>
    public int ActiveIndex = -1;

    /// <summary>Index in the picker's open list (wanted and has unrequested blocks), or -1.</summary>
    public int OpenIndex = -1;

    public readonly bool[] Received;
    public readonly byte[] RequesterCount;

    /// <summary>Requester peer keys, <see cref="MaxRequesters"/> slots per block; the first RequesterCount are valid.</summary>
    public readonly int[] Requesters;

    public void Init(int piece, int blockCount)
    {
        Piece = piece;
        BlockCount = blockCount;
        ReceivedCount = 0;
        Unrequested = blockCount;
        Single = 0;
        Cursor = 0;
        ActiveIndex = -1;
        OpenIndex = -1;
        Array.Clear(Received, 0, blockCount);
        Array.Clear(RequesterCount, 0, blockCount);
    }

    public bool IsRequestedBy(int block, int peerKey)
    {
        int n = RequesterCount[block];
        for (int i = 0; i < n; i++)
            if (Requesters[block * MaxRequesters + i] == peerKey) return true;
        return false;
    }

    /// <summary>Adds a requester; the caller checked there is room. Keeps the counters right.</summary>
    public void AddRequester(int block, int peerKey)
    {
        int n = RequesterCount[block];
        Requesters[block * MaxRequesters + n] = peerKey;
        RequesterCount[block] = (byte)(n + 1);
        if (n == 0) { Unrequested--; Single++; }
        else if (n == 1) Single--;
    }

    /// <summary>Removes a requester if present; returns true when the block has no requester left.</summary>
    public bool RemoveRequester(int block, int peerKey)
    {
        int n = RequesterCount[block];
        int baseIndex = block * MaxRequesters;
        for (int i = 0; i < n; i++)
        {
            if (Requesters[baseIndex + i] != peerKey) continue;
            for (int j = i; j < n - 1; j++) Requesters[baseIndex + j] = Requesters[baseIndex + j + 1];
            RequesterCount[block] = (byte)(n - 1);
            if (n == 1)
            {
                Single--;
                Unrequested++;
                if (block < Cursor) Cursor = block;
                return true;
            }
            if (n == 2) Single++;
            return false;
        }
        return false;
    }

    public void AdvanceCursor()
    {
        while (Cursor < BlockCount && (Received[Cursor] || RequesterCount[Cursor] != 0)) Cursor++;
    }
}
