using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Shoal.Daemon.Service;

/// <summary>
/// The service's actor: one loop that runs every change to the daemon's torrents in order (API commands, the
/// once-a-second status pass, engine notifications), so the torrents' fields and the database connection have a
/// single writer and need no locks. The mailbox is bounded: when it is full, callers wait (back-pressure), nothing
/// is dropped.
/// </summary>
internal sealed class ServiceLoop : IAsyncDisposable
{
    /// <summary>Work items waiting at most; beyond it posting waits.</summary>
    public const int Capacity = 1024;

    private readonly Channel<WorkItem> _mailbox = Channel.CreateBounded<WorkItem>(new BoundedChannelOptions(Capacity)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.Wait,
    });
    private readonly ILogger _log;
    private readonly Task _loop;

    public ServiceLoop(ILogger log)
    {
        _log = log;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Runs <paramref name="work"/> on the loop and returns its result (or its exception).</summary>
    public async Task<T> RunAsync<T>(Func<Task<T>> work, CancellationToken cancellationToken = default)
    {
        var item = new WorkItem<T>(work);
        try
        {
            await _mailbox.Writer.WriteAsync(item, cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            throw new ObjectDisposedException(nameof(ServiceLoop), "the daemon is stopping");
        }
        return await item.Result.ConfigureAwait(false);
    }

    /// <summary>Runs <paramref name="work"/> on the loop.</summary>
    public Task RunAsync(Func<Task> work, CancellationToken cancellationToken = default)
        => RunAsync(async () => { await work().ConfigureAwait(false); return true; }, cancellationToken);

    /// <summary>Posts <paramref name="work"/> without waiting; false when the mailbox is full or closed (the caller decides).</summary>
    public bool TryPost(Func<Task> work) => _mailbox.Writer.TryWrite(new WorkItem<bool>(async () => { await work().ConfigureAwait(false); return true; }));

    private async Task RunAsync()
    {
        await foreach (WorkItem item in _mailbox.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                await item.RunAsync().ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                // RunAsync hands exceptions to the caller; this is a bug in the loop itself. Keep the daemon up.
                _log.LogError(ex, "service loop work item failed");
            }
        }
    }

    /// <summary>Closes the mailbox, runs what is queued, and returns when the loop has ended.</summary>
    public async ValueTask DisposeAsync()
    {
        _mailbox.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
    }

    private abstract class WorkItem
    {
        public abstract Task RunAsync();
    }

    private sealed class WorkItem<T>(Func<Task<T>> work) : WorkItem
    {
        private readonly TaskCompletionSource<T> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<T> Result => _result.Task;

        public override async Task RunAsync()
        {
            try
            {
                _result.TrySetResult(await work().ConfigureAwait(false));
            }
            catch (Exception ex)
            {
                _result.TrySetException(ex);
            }
        }
    }
}
