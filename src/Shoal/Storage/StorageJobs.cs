using System.Threading.Tasks.Sources;

namespace Shoal.Storage;

/// <summary>
/// A pooled disk job whose awaiter's ValueTask is backed by the job itself, so a job allocates nothing.
/// </summary>
/// <remarks>
/// The worker never completes the awaiter itself (that would run the caller's continuation on a disk worker).
/// Instead the job queues itself to the thread pool as an <see cref="IThreadPoolWorkItem"/> and completes there,
/// running the continuation inline on that pool thread. This is the same single hop as
/// <c>RunContinuationsAsynchronously</c>, without the per-completion work-item allocation that option costs.
/// </remarks>
internal abstract class PooledDiskJob<TResult> : DiskJob, IThreadPoolWorkItem
{
    private ManualResetValueTaskSourceCore<TResult> _core; // continuations run inline, but only ever on a pool thread (see above)
    private TResult? _result;
    private Exception? _error;

    public short Version => _core.Version;

    /// <summary>The blocking work, on a disk worker.</summary>
    protected abstract TResult Run();

    /// <summary>Clears the job's fields and returns it to its pool (after the awaiter has the result).</summary>
    protected abstract void Recycle();

    public sealed override void Execute()
    {
        try
        {
            _result = Run();
        }
        catch (Exception e)
        {
            _error = e;
        }
        // Workers are pool threads: the local queue makes this thread run the continuation right after the job.
        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: true);
    }

    public override void Abort(Exception error)
    {
        _error = error;
        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
    }

    void IThreadPoolWorkItem.Execute()
    {
        // Read everything before completing: the continuation may recycle this job and another caller reuse it.
        Exception? error = _error;
        TResult result = _result!;
        if (error is null) _core.SetResult(result);
        else _core.SetException(error);
    }

    protected TResult GetResultCore(short token)
    {
        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            _result = default;
            _error = null;
            _core.Reset();
            Recycle();
        }
    }

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}

/// <summary>
/// A pooled write: either one block of a direct-mode piece (<see cref="WholePiece"/> false) or the final write of a
/// verified buffered piece (<see cref="WholePiece"/> true).
/// </summary>
internal sealed class WriteJob : PooledDiskJob<BlockWriteResult>, IValueTaskSource<BlockWriteResult>
{
    private readonly PieceAssembler _owner;

    public WriteJob(PieceAssembler owner) => _owner = owner;

    public PieceState? State;
    public int Piece;
    public int Offset;
    public int Generation;
    public bool WholePiece;
    public ReadOnlyMemory<byte> Data;

    protected override BlockWriteResult Run() => WholePiece
        ? _owner.ExecutePieceWrite(State!, Piece, Data)
        : _owner.ExecuteWrite(State!, Piece, Offset, Data, Generation);

    public override void Abort(Exception error)
    {
        // A whole-piece write that never runs must still give its buffer back.
        if (WholePiece) _owner.FailPieceWrite(State!);
        base.Abort(error);
    }

    protected override void Recycle()
    {
        State = null;
        Data = default;
        WholePiece = false;
        _owner.ReturnJob(this);
    }

    public BlockWriteResult GetResult(short token) => GetResultCore(token);
}

/// <summary>A pooled block read.</summary>
internal sealed class ReadJob : PooledDiskJob<bool>, IValueTaskSource
{
    private readonly TorrentStorage _owner;

    public ReadJob(TorrentStorage owner) => _owner = owner;

    public int Piece;
    public int Offset;
    public Memory<byte> Destination;
    public CancellationToken CancellationToken;

    protected override bool Run()
    {
        CancellationToken.ThrowIfCancellationRequested();
        _owner.Storage.Read(Piece, Offset, Destination.Span);
        return true;
    }

    protected override void Recycle()
    {
        Destination = default;
        CancellationToken = default;
        _owner.ReturnJob(this);
    }

    public void GetResult(short token) => GetResultCore(token);
}

/// <summary>A block a torrent actor queued: the disk path owns <see cref="Buffer"/> until the write is done.</summary>
internal readonly record struct QueuedBlock(int Piece, int Offset, byte[] Buffer, int Length);

/// <summary>
/// One lane of a torrent's queued writes: the blocks of the pieces it owns (piece modulo the lane count), taken in order
/// by one disk worker at a time, so a piece's blocks are assembled and hashed in the order they came without two
/// workers meeting on it, and a burst of blocks costs one job in the disk service's queue, not one each. Another
/// torrent's lanes and the reads take turns with it: a lane gives its worker back after <see cref="Batch"/> blocks.
/// </summary>
internal sealed class WriteLane(TorrentStorage owner, DiskService disk) : DiskJob
{
    private const int Batch = 32;
    private readonly System.Collections.Concurrent.ConcurrentQueue<QueuedBlock> _blocks = new();
    private int _scheduled; // 1 while the lane is in the disk service's queue or running

    public void Enqueue(in QueuedBlock block)
    {
        _blocks.Enqueue(block);
        if (Interlocked.CompareExchange(ref _scheduled, 1, 0) == 0) disk.Post(this);
    }

    public override void Execute()
    {
        for (int i = 0; i < Batch && _blocks.TryDequeue(out QueuedBlock block); i++) owner.RunQueuedWrite(block);
        Volatile.Write(ref _scheduled, 0);
        // A block queued after our last look found the lane scheduled and posted nothing: go round again, at the back.
        if (!_blocks.IsEmpty && Interlocked.CompareExchange(ref _scheduled, 1, 0) == 0) disk.Post(this);
    }

    public override void Abort(Exception error)
    {
        while (_blocks.TryDequeue(out QueuedBlock block)) owner.AbortQueuedWrite(block, error);
        Volatile.Write(ref _scheduled, 0);
    }
}
