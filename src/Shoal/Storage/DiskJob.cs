namespace Shoal.Storage;

/// <summary>A unit of blocking work run by a <see cref="DiskService"/> worker. Implementations report their own outcome.</summary>
internal abstract class DiskJob
{
    /// <summary>Runs the work on a disk worker. Must not throw: exceptions go to the job's awaiter.</summary>
    public abstract void Execute();

    /// <summary>Completes the job with an error without running it (the service is shutting down).</summary>
    public abstract void Abort(Exception error);
}

/// <summary>Runs a delegate: for the rare, non-hot-path work (checking, flushing) where an allocation is fine.</summary>
internal sealed class DelegateDiskJob<T> : DiskJob
{
    private readonly Func<T> _work;
    private readonly TaskCompletionSource<T> _tcs = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationToken _ct;

    public DelegateDiskJob(Func<T> work, CancellationToken ct)
    {
        _work = work;
        _ct = ct;
    }

    public Task<T> Task => _tcs.Task;

    public override void Execute()
    {
        if (_ct.IsCancellationRequested) { _tcs.TrySetCanceled(_ct); return; }
        try { _tcs.TrySetResult(_work()); }
        catch (OperationCanceledException oce) when (_ct.IsCancellationRequested) { _tcs.TrySetCanceled(oce.CancellationToken); }
        catch (Exception e) { _tcs.TrySetException(e); }
    }

    public override void Abort(Exception error) => _tcs.TrySetException(error);
}
