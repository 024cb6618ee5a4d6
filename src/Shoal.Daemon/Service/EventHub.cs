using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace Shoal.Daemon.Service;

/// <summary>
/// Fans the daemon's events out to any number of readers (the SSE stream, the dialects, tests), each through a
/// bounded queue of its own. A reader that falls <see cref="ReaderCapacity"/> events behind loses them and is told
/// with a <see cref="DaemonEventKind.Resync"/> event: one slow browser tab never holds the daemon's memory or
/// slows the others. The last <see cref="HistoryCapacity"/> events are kept so a client that reconnects
/// (SSE's Last-Event-ID) continues where it stopped.
/// </summary>
public sealed class EventHub
{
    /// <summary>Events a reader may fall behind before it loses them.</summary>
    public const int ReaderCapacity = 4096;

    /// <summary>Events kept for readers that reconnect.</summary>
    public const int HistoryCapacity = 1024;

    /// <summary>Most readers at once; one more is refused (each costs a queue).</summary>
    public const int MaxReaders = 256;

    private readonly TimeProvider _time;
    private readonly Lock _gate = new(); // publish, subscribe and the history ring: a few instructions each
    private readonly DaemonEvent?[] _history = new DaemonEvent?[HistoryCapacity];
    private Reader[] _readers = [];
    private long _sequence;

    /// <summary>Creates the hub; <paramref name="epoch"/> tells this daemon run's sequence numbers from another's.</summary>
    public EventHub(TimeProvider time, string epoch)
    {
        _time = time;
        Epoch = epoch;
    }

    /// <summary>Names this run of the daemon: an event id from another run never resumes here.</summary>
    public string Epoch { get; }

    /// <summary>The sequence number of the last event published.</summary>
    public long LastSequence => Volatile.Read(ref _sequence);

    /// <summary>Readers connected now.</summary>
    public int ReaderCount => Volatile.Read(ref _readers).Length;

    /// <summary>Publishes an event to every reader; never blocks.</summary>
    public DaemonEvent Publish(DaemonEventKind kind, long? torrentId = null, string? infoHash = null, string? name = null,
        TorrentActivity? state = null, string? message = null, int? fileIndex = null, IReadOnlyList<TorrentView>? torrents = null)
    {
        DaemonEvent published;
        Reader[] readers;
        lock (_gate)
        {
            published = new DaemonEvent(++_sequence, kind, _time.GetUtcNow(), torrentId, infoHash, name, state, message, fileIndex, torrents);
            _history[published.Sequence % HistoryCapacity] = published;
            readers = _readers;
        }
        foreach (Reader reader in readers) reader.Offer(published);
        return published;
    }

    /// <summary>
    /// Reads events from now on, or, with <paramref name="after"/> (a sequence of this <see cref="Epoch"/>), from
    /// the event after it when it is still in the history (else a <see cref="DaemonEventKind.Resync"/> comes first).
    /// Throws <see cref="ServiceException"/> when <see cref="MaxReaders"/> are connected.
    /// </summary>
    public async IAsyncEnumerable<DaemonEvent> ReadAsync(long? after = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var reader = new Reader(this);
        List<DaemonEvent> backlog = [];
        lock (_gate)
        {
            if (_readers.Length >= MaxReaders) throw new ServiceException(ServiceErrorKind.Conflict, $"too many event stream readers ({MaxReaders})");
            _readers = [.. _readers, reader];
            if (after is { } last)
            {
                long oldest = Math.Max(1, _sequence - HistoryCapacity + 1);
                if (last > _sequence || last + 1 < oldest) backlog.Add(ResyncEvent());
                else for (long s = last + 1; s <= _sequence; s++) backlog.Add(_history[s % HistoryCapacity]!);
            }
        }
        try
        {
            foreach (DaemonEvent e in backlog) yield return e;
            while (true)
            {
                DaemonEvent next;
                try
                {
                    next = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    yield break;
                }
                yield return next;
            }
        }
        finally
        {
            lock (_gate) _readers = [.. _readers.Where(r => r != reader)];
        }
    }

    private DaemonEvent ResyncEvent() => new(LastSequence, DaemonEventKind.Resync, _time.GetUtcNow(), Message: "events were lost: fetch the list again");

    /// <summary>One reader's bounded queue; an overflow empties it and leaves a resync marker.</summary>
    private sealed class Reader(EventHub hub)
    {
        private readonly Channel<DaemonEvent> _queue = Channel.CreateBounded<DaemonEvent>(new BoundedChannelOptions(ReaderCapacity)
        {
            SingleReader = true,
            SingleWriter = false,
            FullMode = BoundedChannelFullMode.Wait, // TryWrite then fails when full (DropWrite would report success)
        });
        private int _overflowed;

        public void Offer(DaemonEvent e)
        {
            if (!_queue.Writer.TryWrite(e)) Volatile.Write(ref _overflowed, 1);
        }

        public async ValueTask<DaemonEvent> ReadAsync(CancellationToken cancellationToken)
        {
            if (Interlocked.Exchange(ref _overflowed, 0) == 1)
            {
                // What is still queued is a stale fragment: drop it, the client refetches everything.
                while (_queue.Reader.TryRead(out DaemonEvent? stale)) { }
                return hub.ResyncEvent();
            }
            return await _queue.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
