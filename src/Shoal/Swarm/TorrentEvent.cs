using Shoal.Storage;
using Shoal.Wire;

namespace Shoal.Swarm;

/// <summary>What can land in a torrent actor's mailbox.</summary>
internal enum TorrentEventKind
{
    /// <summary>A handshaken connection (incoming or dialled) joins the torrent. Payload: <see cref="PendingPeer"/>.</summary>
    PeerJoined,
    /// <summary>A dial failed before the handshake finished. Payload: the endpoint.</summary>
    DialFailed,
    /// <summary>A parsed wire message from <see cref="TorrentEvent.Peer"/>.</summary>
    Message,
    /// <summary>A connection's loops ended. Error holds why, if it failed.</summary>
    PeerClosed,
    /// <summary>A piece finished hashing on the disk service.</summary>
    PieceHashed,
    /// <summary>The disk service failed a write (Index: the piece, whose blocks the storage dropped).</summary>
    DiskFailed,
    /// <summary>The periodic timer fired.</summary>
    Tick,
    /// <summary>The disk write queue drained below its low-water mark: requesting may resume.</summary>
    WritesDrained,
    /// <summary>More peers to dial. Payload: IPEndPoint[]; Source: where they came from.</summary>
    AddPeers,
    /// <summary>The torrent is stopping: wakes the actor, which waits on its mailbox without a cancellation token.</summary>
    Stopping,
    /// <summary>A batch of the data check is done. Payload: <see cref="PieceCheckProgress"/>.</summary>
    CheckProgress,
    /// <summary>A user's call to run on the loop. Payload: <see cref="TorrentControl"/>.</summary>
    Control,
    /// <summary>The data check ended. Payload: <see cref="CheckOutcome"/>; or Error when it failed.</summary>
    CheckFinished,
    /// <summary>A reader asks for the piece map. Payload: TaskCompletionSource&lt;PieceMap&gt;, completed by the actor.</summary>
    PieceMapRequest,
}

/// <summary>
/// One mailbox item. A struct rather than a class hierarchy so the per-block traffic through the mailbox
/// allocates nothing; the rarely used fields stay empty.
/// </summary>
internal readonly struct TorrentEvent
{
    public TorrentEventKind Kind { get; init; }
    public PeerConnection? Peer { get; init; }
    public MessageId MessageId { get; init; }
    public int Index { get; init; }
    public int Begin { get; init; }
    public int Length { get; init; }
    /// <summary>Block data rented from the session's <see cref="BlockBufferPool"/> (Piece messages); the actor returns or passes it on.</summary>
    public byte[]? Buffer { get; init; }
    public object? Payload { get; init; }
    public BlockWriteResult WriteResult { get; init; }
    public Exception? Error { get; init; }
    public PeerSource Source { get; init; }
}
