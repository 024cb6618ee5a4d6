using System.Threading.Channels;

namespace Shoal.Swarm;

/// <summary>
/// A torrent actor's mailbox: any thread posts, one reader (the actor) handles. Bounded: past
/// <c>capacity</c> events <see cref="TryWrite"/> fails and <see cref="ChannelWriter{T}.WriteAsync"/> waits for room.
/// Once started, the first post to an empty mailbox queues the actor on the thread pool (as a work item, not a waiting
/// task), and the actor drains it until <see cref="TryFinishDrain"/> finds it empty.
/// </summary>
/// <remarks>
/// A bounded <see cref="Channel"/> with an async loop waiting on it cost every torrent about 1.4 KiB even when idle
/// (the channel, its reader's and writers' wait objects, the loop's two state machines and its task): 14 MiB for a
/// session of 10,000 seeds. This holds three references and a few flags while idle; the queue itself is made on the
/// first post and dropped (<see cref="Trim"/>) when the torrent has nothing to do. Posting takes a lock (the queue is
/// touched for a moment under it), as a channel does inside.
/// </remarks>
internal sealed class TorrentMailbox(int capacity, IThreadPoolWorkItem reader) : ChannelWriter<TorrentEvent>
{
    private Queue<TorrentEvent>? _items;
    private List<TaskCompletionSource<bool>>? _blockedWriters; // made the first time the mailbox is full
    private TaskCompletionSource? _arrival; // the shutdown's wait for what is still posted
    private bool _scheduling; // started and not detached: a post to an empty mailbox queues the reader
    private bool _scheduled; // the reader is queued or draining
    private bool _completed;

    /// <summary>Events waiting.</summary>
    public int Count
    {
        get { lock (this) return _items?.Count ?? 0; }
    }

    /// <summary>From now on posts queue the reader; <paramref name="runNow"/> queues it at once, whatever is waiting.</summary>
    public void Start(bool runNow)
    {
        lock (this)
        {
            _scheduling = true;
            if (_scheduled || (!runNow && (_items?.Count ?? 0) == 0)) return;
            _scheduled = true;
        }
        ThreadPool.UnsafeQueueUserWorkItem(reader, preferLocal: false);
    }

    /// <summary>The reader stops being queued (the actor's shutdown reads what is left itself, with <see cref="WaitToReadAsync"/>).</summary>
    public void Detach()
    {
        lock (this)
        {
            _scheduling = false;
            _scheduled = false;
        }
    }

    public override bool TryWrite(TorrentEvent item)
    {
        bool queueReader;
        TaskCompletionSource? arrival;
        lock (this)
        {
            if (_completed) return false;
            Queue<TorrentEvent> items = _items ??= new Queue<TorrentEvent>();
            if (items.Count >= capacity) return false;
            items.Enqueue(item);
            queueReader = _scheduling && !_scheduled;
            if (queueReader) _scheduled = true;
            arrival = _arrival;
            _arrival = null;
        }
        if (queueReader) ThreadPool.UnsafeQueueUserWorkItem(reader, preferLocal: false);
        arrival?.TrySetResult();
        return true;
    }

    public override ValueTask<bool> WaitToWriteAsync(CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested) return ValueTask.FromCanceled<bool>(cancellationToken);
        TaskCompletionSource<bool> waiter;
        lock (this)
        {
            if (_completed) return new ValueTask<bool>(false);
            if ((_items?.Count ?? 0) < capacity) return new ValueTask<bool>(true);
            waiter = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            (_blockedWriters ??= []).Add(waiter);
        }
        return new ValueTask<bool>(cancellationToken.CanBeCanceled ? waiter.Task.WaitAsync(cancellationToken) : waiter.Task);
    }

    /// <summary>Takes the oldest event; false when there is none.</summary>
    public bool TryRead(out TorrentEvent item)
    {
        List<TaskCompletionSource<bool>>? released = null;
        lock (this)
        {
            if (_items is not { Count: > 0 } items)
            {
                item = default;
                return false;
            }
            item = items.Dequeue();
            if (_blockedWriters is { Count: > 0 } blocked)
            {
                released = [.. blocked];
                blocked.Clear();
            }
        }
        if (released is not null) foreach (TaskCompletionSource<bool> writer in released) writer.TrySetResult(true);
        return true;
    }

    /// <summary>
    /// The reader found nothing to read: true when the mailbox is still empty (the reader is no longer queued, and the next
    /// post queues it again), false when an event arrived meanwhile (read on).
    /// </summary>
    public bool TryFinishDrain()
    {
        lock (this)
        {
            if ((_items?.Count ?? 0) > 0) return false;
            _scheduled = false;
            return true;
        }
    }

    /// <summary>Completes when an event is waiting or the mailbox is completed.</summary>
    public Task WaitToReadAsync()
    {
        lock (this)
        {
            if (_completed || (_items?.Count ?? 0) > 0) return Task.CompletedTask;
            return (_arrival ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
        }
    }

    /// <summary>No more posts: every waiting writer is told the mailbox is closed.</summary>
    public override bool TryComplete(Exception? error = null)
    {
        List<TaskCompletionSource<bool>>? blocked;
        TaskCompletionSource? arrival;
        lock (this)
        {
            if (_completed) return false;
            _completed = true;
            blocked = _blockedWriters;
            _blockedWriters = null;
            arrival = _arrival;
            _arrival = null;
        }
        if (blocked is not null) foreach (TaskCompletionSource<bool> writer in blocked) writer.TrySetResult(false);
        arrival?.TrySetResult();
        return true;
    }

    /// <summary>Drops the empty queue (an idle torrent holds none; a busy one keeps its queue between bursts).</summary>
    public void Trim()
    {
        lock (this)
        {
            if (_items is { Count: 0 }) _items = null;
        }
    }
}
