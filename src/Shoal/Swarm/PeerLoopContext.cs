using System.Threading.Channels;
using Shoal.Storage;

namespace Shoal.Swarm;

/// <summary>What a peer's loops need from their torrent: the mailbox, the storage and the rate limits.</summary>
internal sealed class PeerLoopContext(
    ChannelWriter<TorrentEvent> mailbox,
    TimeProvider time,
    RateLimiter torrentUpload,
    RateLimiter sessionUpload,
    RateLimiter torrentDownload,
    RateLimiter sessionDownload,
    SessionContext session)
{
    /// <summary>Returns the connection's slot to the session's budget; called once per connection.</summary>
    public void ReleaseConnection() => session.ReleaseConnection();


    public ChannelWriter<TorrentEvent> Mailbox { get; } = mailbox;
    private volatile ITorrentDisk? _storage;
    private volatile int _pieceCount;

    /// <summary>Pieces in the torrent; 0 until a magnet link's metadata arrives (frames are then checked less).</summary>
    public int PieceCount => _pieceCount;

    /// <summary>Where uploads are read from; null until the torrent's data is open (we have nothing to serve before).</summary>
    public ITorrentDisk? Storage => _storage;

    /// <summary>Called by the actor once the torrent's metadata and files are known.</summary>
    public void SetTorrentData(int pieceCount, ITorrentDisk storage)
    {
        _storage = storage;
        _pieceCount = pieceCount;
    }

    public TimeProvider Time { get; } = time;

    /// <summary>Where received blocks are copied to (returned by whoever ends the block's journey).</summary>
    public required BlockBufferPool Blocks { get; init; }

    /// <summary>Waits until both the torrent's and the session's upload caps allow <paramref name="bytes"/>.</summary>
    public ValueTask TakeUploadAsync(int bytes, CancellationToken token) => TakeBothAsync(torrentUpload, sessionUpload, bytes, token);

    /// <summary>Waits until both download caps allow <paramref name="bytes"/>.</summary>
    public ValueTask TakeDownloadAsync(int bytes, CancellationToken token) => TakeBothAsync(torrentDownload, sessionDownload, bytes, token);

    private ValueTask TakeBothAsync(RateLimiter torrent, RateLimiter session, int bytes, CancellationToken token)
    {
        // Take from both at once and wait for the longer debt: waiting for one and then the other would
        // add the two delays together.
        TimeSpan wait = torrent.Take(bytes);
        TimeSpan other = session.Take(bytes);
        if (other > wait) wait = other;
        return wait <= TimeSpan.Zero ? ValueTask.CompletedTask : new ValueTask(Task.Delay(wait, Time, token));
    }
}
