using Shoal.Wire;

namespace Shoal.Swarm;

/// <summary>
/// A message queued for a peer's send loop. Piece messages carry only the request: the send loop reads the
/// block from disk straight into the socket's pipe memory, so no block is ever buffered twice.
/// </summary>
/// <param name="Id">Which message.</param>
/// <param name="Index">Piece index (have, request, piece, cancel, reject, suggest, allowed fast).</param>
/// <param name="Begin">Offset in the piece.</param>
/// <param name="Length">Block length.</param>
/// <param name="ChokeEpoch">For Piece: the peer's choke epoch when queued; a later choke voids it.</param>
/// <param name="Data">Bitfield bytes or extended payload.</param>
internal readonly record struct OutboundMessage(MessageId Id, int Index = 0, int Begin = 0, int Length = 0, int ChokeEpoch = 0, byte[]? Data = null)
{
    /// <summary>What one queued message costs besides its payload: the entry in the send queue.</summary>
    public const int EntryBytes = 32;

    /// <summary>
    /// The memory this message holds while it waits in a send queue: its entry, plus the payload it carries. A Piece
    /// holds no block (the send loop reads it from disk when its turn comes), so a deep request queue stays cheap.
    /// A payload shared between messages (a cached metadata answer) is counted for each, which errs on the safe side.
    /// </summary>
    public int MemoryCost => EntryBytes + (Data?.Length ?? 0);
}
