using System.Collections.Concurrent;

namespace Shoal.Storage;

/// <summary>
/// The bounded pool that runs blocking file I/O off the callers' threads. One instance is shared by every
/// torrent of a session, so the total disk parallelism stays at <see cref="Concurrency"/> however many torrents
/// there are.
/// </summary>
/// <remarks>
/// <para>Jobs go into a queue drained by at most <see cref="Concurrency"/> runners. A runner is a thread-pool work
/// item that exists only while there is work: posting a job starts one if fewer than <see cref="Concurrency"/> are
/// active, and a runner leaves when the queue is empty. Nothing waits on an idle queue, so a post allocates nothing
/// and wakes at most one thread (a channel with several waiting readers wakes them all and allocates a waiter for
/// each that goes back to sleep). Completions are queued to the runner's own thread-pool queue, so the caller's
/// continuation usually runs on the thread that did the I/O right after it, without a cross-thread hop.</para>
/// <para>A job is never run on the thread that posts it, so a slow disk only delays the answer, it never blocks an
/// actor. When <see cref="QueueCapacity"/> jobs are waiting, further jobs wait their turn in an overflow line, in
/// the order they came, and each job a runner takes lets the oldest of them in: the caller's awaiter completes later,
/// which is the back-pressure (callers are bounded by the operations they have outstanding: a torrent's check has
/// one batch per disk worker in flight, its writes their watermarks). Waking one waiter per free slot keeps a burst
/// of thousands of torrents starting at once linear; waking every waiter on each free slot made it quadratic.</para>
/// </remarks>
public sealed class DiskService : IAsyncDisposable
{
    /// <summary>Jobs waiting for a worker, beyond which posting waits.</summary>
    public const int QueueCapacity = 4096;

    /// <summary>
    /// Queued block writes of all torrents past which every torrent stops requesting (each torrent has its own mark
    /// too): half the queue, so reads and checks always find room and a write never waits for a place in the queue.
    /// </summary>
    internal const int WritesHighWater = QueueCapacity / 2;

    /// <summary>Torrents paused by <see cref="WritesHighWater"/> resume here.</summary>
    internal const int WritesLowWater = WritesHighWater / 4;

    // Jobs a runner does before handing its thread back to the pool (and queuing itself again), for fairness.
    private const int RunnerBatch = 32;

    private readonly ConcurrentQueue<DiskJob> _queue = new();
    private readonly Runner _runner;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentQueue<DiskJob> _overflow = new(); // jobs waiting for room in _queue, oldest first
    private readonly HashSet<TorrentStorage> _drainWaiters = [];
    private int _queued;
    private int _active;
    private int _queuedWrites;
    private int _disposed;

    /// <summary>
    /// Creates the service; runners start on demand, at most <paramref name="concurrency"/> at once. Times it records
    /// (when resume data was captured) come from <paramref name="time"/> (null: the system clock). The torrents on it
    /// keep at most <paramref name="maxOpenFiles"/> data files open between them (least recently used closed first).
    /// </summary>
    public DiskService(int concurrency = 4, TimeProvider? time = null, int maxOpenFiles = DefaultMaxOpenFiles)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(concurrency, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(concurrency, 256);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxOpenFiles, 1);
        Concurrency = concurrency;
        Time = time ?? TimeProvider.System;
        Files = new FilePool(maxOpenFiles);
        _runner = new Runner(this);
    }

    /// <summary>The default bound on data files open at once over all torrents of a service: 128.</summary>
    public const int DefaultMaxOpenFiles = FilePool.DefaultCapacity;

    /// <summary>The bound on data files open at once over all torrents of this service.</summary>
    public int MaxOpenFiles => Files.Capacity;

    /// <summary>Data files open now over all torrents of this service (never above <see cref="MaxOpenFiles"/> but while every one is in use).</summary>
    public int OpenFiles => Files.OpenCount;

    /// <summary>The session's pool of open data files.</summary>
    internal FilePool Files { get; }

    /// <summary>Number of jobs that may run at the same time.</summary>
    public int Concurrency { get; }

    /// <summary>The clock of the session this service belongs to.</summary>
    public TimeProvider Time { get; }

    /// <summary>The Linux I/O hints this service's storages use (each turns itself off for this service on refusal).</summary>
    internal LinuxFileIo FileIo { get; } = new();

    /// <summary>True once <see cref="DisposeAsync"/> has started: new jobs are refused.</summary>
    internal bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>Queues a job (behind the overflow line when the queue is full). Never runs it inline.</summary>
    internal void Post(DiskJob job)
    {
        if (IsDisposed)
        {
            job.Abort(new ObjectDisposedException(nameof(DiskService)));
            return;
        }
        // Nobody overtakes the line: with jobs waiting in it, a new one goes behind them.
        if (_overflow.IsEmpty)
        {
            if (Interlocked.Increment(ref _queued) <= QueueCapacity)
            {
                _queue.Enqueue(job);
                TryStartRunner();
                return;
            }
            Interlocked.Decrement(ref _queued);
        }
        _overflow.Enqueue(job);
        // Room may have been made between the look above and the enqueue, with nobody left to let this job in.
        AdmitWaiting();
    }

    /// <summary>Moves the oldest waiting jobs into the queue while it has room (after a runner took a job, or a post).</summary>
    private void AdmitWaiting()
    {
        while (!_overflow.IsEmpty)
        {
            if (Interlocked.Increment(ref _queued) > QueueCapacity)
            {
                Interlocked.Decrement(ref _queued);
                return;
            }
            if (!_overflow.TryDequeue(out DiskJob? job))
            {
                Interlocked.Decrement(ref _queued);
                return;
            }
            _queue.Enqueue(job);
            TryStartRunner();
        }
    }

    /// <summary>True while more block writes are queued, over all torrents, than <see cref="WritesHighWater"/>.</summary>
    internal bool WritesBacklogged => Volatile.Read(ref _queuedWrites) > WritesHighWater;

    /// <summary>A torrent actor queued a block write (counted against the session's write watermarks).</summary>
    internal void OnWriteQueued() => Interlocked.Increment(ref _queuedWrites);

    /// <summary>A queued write finished (or was dropped); wakes the torrents that paused on the session's mark once it drained.</summary>
    internal void OnWriteDone()
    {
        if (Interlocked.Decrement(ref _queuedWrites) != WritesLowWater) return;
        TorrentStorage[] waiting;
        lock (_drainWaiters)
        {
            if (_drainWaiters.Count == 0) return;
            waiting = [.. _drainWaiters];
            _drainWaiters.Clear();
        }
        foreach (TorrentStorage torrent in waiting) torrent.NotifyDrained();
    }

    /// <summary>Registers a torrent that stopped requesting because of the session's mark, to be told when it drains.</summary>
    internal void WakeOnDrain(TorrentStorage torrent)
    {
        lock (_drainWaiters) _drainWaiters.Add(torrent);
        // The drain may have happened between the caller's look and the registration.
        if (!WritesBacklogged) torrent.NotifyDrained();
    }

    /// <summary>Runs <paramref name="work"/> on a worker (for non-hot-path work; allocates).</summary>
    internal Task<T> RunAsync<T>(Func<T> work, CancellationToken ct)
    {
        var job = new DelegateDiskJob<T>(work, ct);
        Post(job);
        return job.Task;
    }

    private void TryStartRunner()
    {
        int active = Volatile.Read(ref _active);
        while (active < Concurrency)
        {
            int seen = Interlocked.CompareExchange(ref _active, active + 1, active);
            if (seen == active)
            {
                ThreadPool.UnsafeQueueUserWorkItem(_runner, preferLocal: false);
                return;
            }
            active = seen;
        }
        // Concurrency runners are active; each re-checks the queue before it leaves, so this job will be run.
    }

    private void RunBatch()
    {
        for (int i = 0; i < RunnerBatch; i++)
        {
            if (!_queue.TryDequeue(out DiskJob? job))
            {
                Interlocked.Decrement(ref _active);
                // A job posted after our failed dequeue may have seen all runners active and started none.
                if (!_queue.IsEmpty) TryStartRunner();
                else if (IsDisposed && Volatile.Read(ref _active) == 0) _stopped.TrySetResult();
                return;
            }
            Interlocked.Decrement(ref _queued);
            if (!_overflow.IsEmpty) AdmitWaiting();
            try
            {
                job.Execute();
            }
            catch (Exception e)
            {
                // Jobs report their own errors; this is a last resort so one bad job cannot kill a runner.
                job.Abort(e);
            }
        }
        ThreadPool.UnsafeQueueUserWorkItem(_runner, preferLocal: false); // keeps its slot in _active
    }

    /// <summary>Stops accepting jobs, lets the ones already queued run, and waits for the runners to finish.</summary>
    public async ValueTask DisposeAsync()
    {
        bool first = Interlocked.Exchange(ref _disposed, 1) == 0;
        if (first && Volatile.Read(ref _active) == 0)
        {
            // No runner active: none will signal. A job racing with this call still finds a runner (Post starts one).
            _stopped.TrySetResult();
        }
        await _stopped.Task.ConfigureAwait(false);
    }

    private sealed class Runner(DiskService owner) : IThreadPoolWorkItem
    {
        public void Execute() => owner.RunBatch();
    }
}
