using System.Collections.Concurrent;

namespace Shoal.Storage;

/// <summary>
/// The bounded pool that runs blocking file I/O off the callers' threads. One instance is shared by every
/// torrent of a session, so the total disk parallelism stays at <see cref="Concurrency"/> however many torrents
/// there are.
/// </summary>
/// <remarks>
/// <para>Jobs go through a queue served by <see cref="Concurrency"/> dedicated background threads. They are
/// threads rather than thread-pool tasks because their work blocks (pread/pwrite): blocking pool threads would
/// starve the network actors that share the pool, and dedicated threads wake one at a time on a semaphore instead
/// of every idle reader of a channel waking (and allocating a waiter) for each job.</para>
/// <para>A job is never run on the thread that posts it; its completion resumes the caller on the thread pool,
/// so a slow disk only delays the answer, it never blocks an actor. When <see cref="QueueCapacity"/> jobs are
/// waiting, posting waits asynchronously; callers are bounded by the number of operations they have outstanding.</para>
/// </remarks>
public sealed class DiskService : IAsyncDisposable
{
    /// <summary>Jobs waiting for a worker, beyond which posting waits.</summary>
    public const int QueueCapacity = 4096;

    private readonly ConcurrentQueue<DiskJob> _queue = new();
    private readonly SemaphoreSlim _items = new(0); // one count per queued job, plus one per worker at shutdown
    private readonly SemaphoreSlim _space = new(QueueCapacity, QueueCapacity);
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _running;
    private int _disposed;

    /// <summary>Starts <paramref name="concurrency"/> worker threads.</summary>
    public DiskService(int concurrency = 4)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(concurrency, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(concurrency, 256);
        Concurrency = concurrency;
        _running = concurrency;
        for (int i = 0; i < concurrency; i++)
        {
            var thread = new Thread(WorkerLoop, maxStackSize: 256 * 1024) { IsBackground = true, Name = $"shoal-disk-{i}" };
            thread.Start();
        }
    }

    /// <summary>Number of jobs that may run at the same time.</summary>
    public int Concurrency { get; }

    /// <summary>True once <see cref="DisposeAsync"/> has started: new jobs are refused.</summary>
    internal bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>Queues a job. Never runs it inline.</summary>
    internal void Post(DiskJob job)
    {
        if (IsDisposed)
        {
            job.Abort(new ObjectDisposedException(nameof(DiskService)));
            return;
        }
        if (_space.Wait(0)) Enqueue(job);
        else _ = PostSlowAsync(job);
    }

    /// <summary>Runs <paramref name="work"/> on a worker (for non-hot-path work; allocates).</summary>
    internal Task<T> RunAsync<T>(Func<T> work, CancellationToken ct)
    {
        var job = new DelegateDiskJob<T>(work, ct);
        Post(job);
        return job.Task;
    }

    private void Enqueue(DiskJob job)
    {
        _queue.Enqueue(job);
        _items.Release();
        if (IsDisposed) AbortQueued(); // raced with DisposeAsync: the workers may be gone, nobody else would run it
    }

    private async Task PostSlowAsync(DiskJob job)
    {
        await _space.WaitAsync().ConfigureAwait(false);
        if (IsDisposed)
        {
            _space.Release();
            job.Abort(new ObjectDisposedException(nameof(DiskService)));
            return;
        }
        Enqueue(job);
    }

    private void AbortQueued()
    {
        while (_queue.TryDequeue(out DiskJob? job))
        {
            _space.Release();
            job.Abort(new ObjectDisposedException(nameof(DiskService)));
        }
    }

    private void WorkerLoop()
    {
        try
        {
            while (true)
            {
                _items.Wait();
                if (!_queue.TryDequeue(out DiskJob? job))
                {
                    if (IsDisposed) return;
                    continue;
                }
                _space.Release();
                try
                {
                    job.Execute();
                }
                catch (Exception e)
                {
                    // Jobs report their own errors; this is a last resort so one bad job cannot kill a worker.
                    job.Abort(e);
                }
            }
        }
        finally
        {
            if (Interlocked.Decrement(ref _running) == 0) _stopped.TrySetResult();
        }
    }

    /// <summary>Stops accepting jobs, runs the ones already queued, and waits for the workers to finish.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            await _stopped.Task.ConfigureAwait(false);
            return;
        }
        _items.Release(Concurrency); // each worker drains the queue, then finds it empty and exits
        await _stopped.Task.ConfigureAwait(false);
        AbortQueued(); // anything that slipped in after the last worker left
    }
}
