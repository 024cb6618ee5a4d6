using System.Threading.Tasks.Sources;

namespace Shoal.Storage;

/// <summary>A pooled block write: the awaiter's ValueTask is backed by this object, so a write allocates nothing.</summary>
internal sealed class WriteJob : DiskJob, IValueTaskSource<BlockWriteResult>
{
    private readonly TorrentStorage _owner;
    private ManualResetValueTaskSourceCore<BlockWriteResult> _core;

    public WriteJob(TorrentStorage owner)
    {
        _owner = owner;
        _core.RunContinuationsAsynchronously = true; // never resume the caller on a disk worker
    }

    public PieceState? State;
    public int Piece;
    public int Offset;
    public int Generation;
    public ReadOnlyMemory<byte> Data;

    public short Version => _core.Version;

    public override void Execute()
    {
        BlockWriteResult result;
        try
        {
            result = _owner.ExecuteWrite(State!, Piece, Offset, Data, Generation);
        }
        catch (Exception e)
        {
            _core.SetException(e);
            return;
        }
        _core.SetResult(result);
    }

    public override void Abort(Exception error) => _core.SetException(error);

    public BlockWriteResult GetResult(short token)
    {
        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            State = null;
            Data = default;
            _core.Reset();
            _owner.ReturnJob(this);
        }
    }

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}

/// <summary>A pooled block read.</summary>
internal sealed class ReadJob : DiskJob, IValueTaskSource
{
    private readonly TorrentStorage _owner;
    private ManualResetValueTaskSourceCore<bool> _core;

    public ReadJob(TorrentStorage owner)
    {
        _owner = owner;
        _core.RunContinuationsAsynchronously = true;
    }

    public long TorrentOffset;
    public Memory<byte> Destination;
    public CancellationToken CancellationToken;

    public short Version => _core.Version;

    public override void Execute()
    {
        try
        {
            CancellationToken.ThrowIfCancellationRequested();
            _owner.ReadRange(TorrentOffset, Destination.Span);
        }
        catch (Exception e)
        {
            _core.SetException(e);
            return;
        }
        _core.SetResult(true);
    }

    public override void Abort(Exception error) => _core.SetException(error);

    public void GetResult(short token)
    {
        try
        {
            _core.GetResult(token);
        }
        finally
        {
            Destination = default;
            CancellationToken = default;
            _core.Reset();
            _owner.ReturnJob(this);
        }
    }

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
