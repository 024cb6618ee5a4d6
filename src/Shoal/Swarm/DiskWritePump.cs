using System.Threading.Channels;
using Shoal.Picking;
using Shoal.Storage;

namespace Shoal.Swarm;

/// <summary>
/// Carries received blocks from the actor to the storage: one queue and one writer task per shard, a piece always
/// in the same shard (one reader per queue keeps waiting allocation-free, and a piece's blocks reach the storage in
/// order). Past <see cref="HighWater"/> blocks waiting, requesting pauses; it resumes at <see cref="LowWater"/>.
/// </summary>
internal sealed class DiskWritePump
{
    /// <summary>Blocks waiting for the disk past which we stop asking for more: a slow disk slows the download instead of filling memory.</summary>
    public const int HighWater = 512;

    /// <summary>Requests paused at the high-water mark resume here (an event, not the next tick: a 500 ms gap would idle a fast link).</summary>
    public const int LowWater = HighWater / 4;

    private readonly TorrentContext _torrent;
    private readonly ChannelWriter<TorrentEvent> _mailbox;
    private readonly Channel<PendingWrite>[] _shards;
    private Task[] _writers = [];
    private int _queued;
    private volatile bool _paused;

    public DiskWritePump(TorrentContext torrent, ChannelWriter<TorrentEvent> mailbox, int shards)
    {
        _torrent = torrent;
        _mailbox = mailbox;
        // Unbounded by type, bounded in practice: the actor stops requesting above the high-water mark, so
        // the queue never exceeds that mark plus the requests already outstanding.
        _shards = new Channel<PendingWrite>[Math.Max(1, shards)];
        for (int i = 0; i < _shards.Length; i++)
            _shards[i] = Channel.CreateUnbounded<PendingWrite>(new UnboundedChannelOptions { SingleWriter = true, SingleReader = true });
    }

    /// <summary>True (and requesting pauses) while more than <see cref="HighWater"/> blocks wait for the disk.</summary>
    public bool Backlogged
    {
        get
        {
            if (Volatile.Read(ref _queued) <= HighWater) return false;
            _paused = true;
            return true;
        }
    }

    /// <summary>The backlog drained after a pause (the WritesDrained event).</summary>
    public void OnDrained() => _paused = false;

    public void Start(CancellationToken stop)
    {
        _writers = new Task[_shards.Length];
        for (int i = 0; i < _writers.Length; i++)
        {
            ChannelReader<PendingWrite> shard = _shards[i].Reader;
            _writers[i] = Task.Run(() => WriteLoopAsync(shard, stop));
        }
    }

    /// <summary>Queues a wanted block; the pump owns <paramref name="buffer"/> from here on.</summary>
    public void Enqueue(BlockRequest block, byte[] buffer)
    {
        Interlocked.Increment(ref _queued);
        _shards[block.Piece % _shards.Length].Writer.TryWrite(new PendingWrite(block, buffer));
    }

    /// <summary>No more blocks: lets the writers finish what is queued (they skip it once stopped), then returns what is left.</summary>
    public async Task CompleteAsync()
    {
        foreach (Channel<PendingWrite> shard in _shards) shard.Writer.TryComplete();
        try { await Task.WhenAll(_writers).ConfigureAwait(false); } catch (Exception ex) { _torrent.Log("disk writer ended with " + ex.Message); }
        foreach (Channel<PendingWrite> shard in _shards)
            while (shard.Reader.TryRead(out PendingWrite write)) _torrent.Session.Blocks.Return(write.Buffer);
    }

    private async Task WriteLoopAsync(ChannelReader<PendingWrite> reader, CancellationToken stop)
    {
        while (await reader.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
        {
            while (reader.TryRead(out PendingWrite write))
            {
                try
                {
                    if (stop.IsCancellationRequested) continue;
                    BlockWriteResult result = await _torrent.Storage!.WriteBlockAsync(write.Block.Piece, write.Block.Offset,
                        write.Buffer.AsMemory(0, write.Block.Length), stop).ConfigureAwait(false);
                    if (result is BlockWriteResult.PieceVerified or BlockWriteResult.PieceFailed)
                        await _mailbox.WriteAsync(new TorrentEvent { Kind = TorrentEventKind.PieceHashed, Index = write.Block.Piece, WriteResult = result }, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                }
                catch (ChannelClosedException)
                {
                }
                catch (Exception ex)
                {
                    _mailbox.TryWrite(new TorrentEvent { Kind = TorrentEventKind.DiskFailed, Index = write.Block.Piece, Error = ex });
                }
                finally
                {
                    _torrent.Session.Blocks.Return(write.Buffer);
                    if (Interlocked.Decrement(ref _queued) == LowWater && _paused)
                        _mailbox.TryWrite(new TorrentEvent { Kind = TorrentEventKind.WritesDrained });
                }
            }
        }
    }

    private readonly record struct PendingWrite(BlockRequest Block, byte[] Buffer);
}
