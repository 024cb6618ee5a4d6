namespace Shoal.Transport.Utp;

/// <summary>
/// Spreads a connection's packets over its round trip instead of sending a window's worth in one burst that
/// overflows a router's queue: a token bucket refilled at a multiple of <c>window / rtt</c> (twice it in slow start,
/// as Linux paces TCP), holding at most a small burst. Unlimited until a round trip has been measured.
/// </summary>
internal sealed class Pacer
{
    private readonly int _burstBytes;
    private double _tokens;
    private double _bytesPerMicro;
    private long _lastMicros;

    /// <summary>Creates a pacer whose bucket holds <paramref name="burstBytes"/>.</summary>
    public Pacer(int burstBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(burstBytes);
        _burstBytes = burstBytes;
        _tokens = burstBytes;
    }

    /// <summary>The refill rate in bytes per second (0: unlimited).</summary>
    public double BytesPerSecond => _bytesPerMicro * 1_000_000;

    /// <summary>Sets the rate from the window and the smoothed round trip (0: unknown, no pacing).</summary>
    public void Update(double windowBytes, long smoothedRttMicros, bool slowStart)
    {
        _bytesPerMicro = smoothedRttMicros <= 0 ? 0 : (slowStart ? 2.0 : 1.25) * windowBytes / smoothedRttMicros;
    }

    /// <summary>Takes <paramref name="bytes"/> from the bucket if it holds them at <paramref name="nowMicros"/>.</summary>
    public bool TryTake(int bytes, long nowMicros)
    {
        if (_bytesPerMicro <= 0) return true;
        Refill(nowMicros);
        // A packet larger than the burst still goes once the bucket is full, or nothing would ever leave.
        double needed = Math.Min(bytes, _burstBytes);
        if (_tokens < needed) return false;
        _tokens -= bytes;
        return true;
    }

    /// <summary>When <paramref name="bytes"/> will be available, in microseconds of the same clock.</summary>
    public long ReadyAt(int bytes, long nowMicros)
    {
        if (_bytesPerMicro <= 0) return nowMicros;
        Refill(nowMicros);
        double missing = Math.Min(bytes, _burstBytes) - _tokens;
        return missing <= 0 ? nowMicros : nowMicros + (long)Math.Ceiling(missing / _bytesPerMicro);
    }

    private void Refill(long nowMicros)
    {
        long elapsed = nowMicros - _lastMicros;
        _lastMicros = nowMicros;
        if (elapsed > 0) _tokens = Math.Min(_burstBytes, _tokens + elapsed * _bytesPerMicro);
    }
}
