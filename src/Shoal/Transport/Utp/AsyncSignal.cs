using System.Threading.Tasks.Sources;

namespace Shoal.Transport.Utp;

/// <summary>
/// An auto-reset event for one waiter that allocates nothing: <see cref="Set"/> wakes the pending
/// <see cref="WaitAsync"/>, or the next one if nobody waits yet. Continuations run on the thread pool, so
/// <see cref="Set"/> never runs the waiter's code on the caller's stack (the caller may hold a connection's gate).
/// </summary>
internal sealed class AsyncSignal : IValueTaskSource
{
    private readonly Lock _lock = new();
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
    private bool _signaled;
    private bool _waiting;

    /// <summary>Wakes the waiter, or lets the next wait pass at once.</summary>
    public void Set()
    {
        lock (_lock)
        {
            if (!_waiting)
            {
                _signaled = true;
                return;
            }
            _waiting = false;
        }
        _core.SetResult(true);
    }

    /// <summary>Forgets a signal nobody waited for.</summary>
    public void Clear()
    {
        lock (_lock) _signaled = false;
    }

    /// <summary>Completes when <see cref="Set"/> is called (at once if it was since the last wait). One waiter at a time.</summary>
    public ValueTask WaitAsync()
    {
        lock (_lock)
        {
            if (_signaled)
            {
                _signaled = false;
                return ValueTask.CompletedTask;
            }
            if (_waiting) throw new InvalidOperationException("the signal has a waiter already");
            _core.Reset();
            _waiting = true;
            return new ValueTask(this, _core.Version);
        }
    }

    void IValueTaskSource.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
