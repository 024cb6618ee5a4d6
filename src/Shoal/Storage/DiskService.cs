using System.Threading.Channels;

namespace Shoal.Storage;

/// <summary>
/// The bounded pool that runs blocking file I/O and hashing off the callers' threads. One instance is
/// shared by every torrent of a session, so the total disk parallelism stays at <see cref="Concurrency"/>
/// however many torrents there are.
/// </summary>
/// <remarks>
/// Jobs go through a bounded channel read by <see cref="Concurrency"/> worker loops. A job is never run on
/// the thread that posts it; its completion resumes the caller asynchronously (on the thread pool), so a
/// slow disk only delays the answer, it never blocks an actor. When the queue is full the post itself waits
/// asynchronously; callers are bounded by the number of operations they have outstanding.
/// </remarks>
public sealed class DiskService : IAsyncDisposable
{
    /// <summary>Jobs waiting for a worker, beyond which posting waits.</summary>
    public const int QueueCapacity = 4096;

    private readonly Channel<DiskJob> _queue;
    private readonly Task[] _workers;
    private int _disposed;

    /// <summary>Starts <paramref name="concurrency"/> workers.</summary>
    public DiskService(int concurrency = 4)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(concurrency, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(concurrency, 256);
        Concurrency = concurrency;
        _queue = Channel.CreateBounded<DiskJob>(new BoundedChannelOptions(QueueCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = false,
            SingleWriter = false,
            AllowSynchronousContinuations = false,
        });
        _workers = new Task[concurrency];
        for (int i = 0; i < concurrency; i++)
            _workers[i] = Task.Run(WorkerLoopAsync);
    }

    /// <summary>Number of jobs that may run at the same time.</summary>
    public int Concurrency { get; }

    /// <summary>Queues a job. Never runs it inline.</summary>
    internal void Post(DiskJob job)
    {
        if (_queue.Writer.TryWrite(job)) return;
        if (Volatile.Read(ref _disposed) != 0)
        {
            job.Abort(new ObjectDisposedException(nameof(DiskService)));
            return;
        }
        _ = PostSlowAsync(job);
    }

    /// <summary>Runs <paramref name="work"/> on a worker (for non-hot-path work; allocates).</summary>
    internal Task<T> RunAsync<T>(Func<T> work, CancellationToken ct)
    {
        var job = new DelegateDiskJob<T>(work, ct);
        Post(job);
        return job.Task;
    }

    private async Task PostSlowAsync(DiskJob job)
    {
        try
        {
            await _queue.Writer.WriteAsync(job).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            job.Abort(new ObjectDisposedException(nameof(DiskService)));
        }
    }

    private async Task WorkerLoopAsync()
    {
        ChannelReader<DiskJob> reader = _queue.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out DiskJob? job))
            {
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
    }

    /// <summary>Stops accepting jobs, runs the ones already queued, and waits for the workers to finish.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _queue.Writer.TryComplete();
        await Task.WhenAll(_workers).ConfigureAwait(false);
    }
}
