namespace Shoal.Swarm;

/// <summary>
/// A token bucket shared by the loops that move payload (every peer's send loop, or every receive loop).
/// Callers take their bytes at once and, when that drives the balance below zero, wait until the refill
/// has paid the debt back. Taking first keeps waiters in arrival order without a queue, and the debt is
/// bounded by (concurrent callers × one block).
/// </summary>
public sealed class RateLimiter
{
    // Burst allowance: a tenth of a second of traffic, but never less than a few blocks, so an idle link
    // can start at full speed without letting long bursts break the average.
    private const int MinimumBurst = 64 * 1024;

    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private long _bytesPerSecond;
    private double _balance;
    private long _lastRefill;

    /// <summary>Creates a limiter; a rate of 0 means unlimited.</summary>
    public RateLimiter(long bytesPerSecond, TimeProvider time)
    {
        _time = time;
        _lastRefill = time.GetTimestamp();
        BytesPerSecond = bytesPerSecond;
    }

    /// <summary>The cap in bytes per second; 0 is unlimited. Can change at any time.</summary>
    public long BytesPerSecond
    {
        get => Volatile.Read(ref _bytesPerSecond);
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            lock (_gate)
            {
                _bytesPerSecond = value;
                _balance = Math.Min(_balance, Burst(value));
            }
        }
    }

    /// <summary>True when no cap is set.</summary>
    public bool IsUnlimited => BytesPerSecond == 0;

    /// <summary>Takes <paramref name="bytes"/> and waits as long as the cap requires.</summary>
    public ValueTask TakeAsync(int bytes, CancellationToken cancellationToken)
    {
        TimeSpan wait = Take(bytes);
        return wait <= TimeSpan.Zero ? ValueTask.CompletedTask : new ValueTask(Task.Delay(wait, _time, cancellationToken));
    }

    /// <summary>Takes <paramref name="bytes"/> now and returns how long the caller must wait before using them.</summary>
    public TimeSpan Take(int bytes)
    {
        lock (_gate)
        {
            long rate = _bytesPerSecond;
            if (rate == 0) return TimeSpan.Zero;
            long now = _time.GetTimestamp();
            double elapsed = _time.GetElapsedTime(_lastRefill, now).TotalSeconds;
            _lastRefill = now;
            _balance = Math.Min(Burst(rate), _balance + elapsed * rate);
            _balance -= bytes;
            return _balance >= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(-_balance / rate);
        }
    }

    private static double Burst(long rate) => Math.Max(MinimumBurst, rate / 10.0);
}
