namespace Shoal;

/// <summary>
/// A cancellation token that fires when the caller's token does or when a time span has passed on a
/// <see cref="TimeProvider"/>'s clock. <c>CancelAfter</c> would use the wall clock, which a simulated session
/// (virtual time) does not follow.
/// </summary>
internal sealed class Deadline : IDisposable
{
    private readonly CancellationTokenSource _timer;
    private readonly CancellationTokenSource _linked;

    public Deadline(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        _timer = new CancellationTokenSource(timeout, time);
        _linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _timer.Token);
    }

    /// <summary>Cancelled by the caller's token or at the deadline.</summary>
    public CancellationToken Token => _linked.Token;

    /// <summary>True once the time is up (as opposed to the caller cancelling).</summary>
    public bool Expired => _timer.IsCancellationRequested;

    public void Dispose()
    {
        _linked.Dispose();
        _timer.Dispose();
    }
}
