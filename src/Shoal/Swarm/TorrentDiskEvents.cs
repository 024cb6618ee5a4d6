using Shoal.Storage;

namespace Shoal.Swarm;

/// <summary>
/// Posts what a torrent's disk path reports into the torrent's mailbox. A verdict is never dropped: when the mailbox
/// is full it waits for room (off the disk worker); only a closed mailbox (the torrent stopped) drops it.
/// </summary>
internal sealed class TorrentDiskEvents(TorrentActor actor) : IDiskEvents
{
    public void OnPieceHashed(int piece, bool verified) => Post(new TorrentEvent
    {
        Kind = TorrentEventKind.PieceHashed,
        Index = piece,
        WriteResult = verified ? BlockWriteResult.PieceVerified : BlockWriteResult.PieceFailed,
    });

    public void OnWriteFailed(int piece, Exception error) => Post(new TorrentEvent { Kind = TorrentEventKind.DiskFailed, Index = piece, Error = error });

    // A lost wake-up only delays requesting until the next tick.
    public void OnWriteBacklogDrained() => actor.TryPost(new TorrentEvent { Kind = TorrentEventKind.WritesDrained });

    private void Post(TorrentEvent item)
    {
        if (!actor.TryPost(item)) _ = actor.PostAsync(item).AsTask();
    }
}
