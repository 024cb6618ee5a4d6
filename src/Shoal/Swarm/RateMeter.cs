namespace Shoal.Swarm;

/// <summary>
/// Turns a growing byte counter into a smoothed rate. Sampled by its owner on a fixed tick; the
/// exponential average keeps progress bars steady without keeping a window of samples.
/// </summary>
internal struct RateMeter
{
    private const double Smoothing = 0.4;
    private long _lastTotal;
    private double _rate;

    /// <summary>Bytes per second as of the last sample.</summary>
    public readonly long BytesPerSecond => (long)_rate;

    /// <summary>Records the counter's value after <paramref name="elapsed"/> since the previous sample.</summary>
    public void Sample(long total, TimeSpan elapsed)
    {
        if (elapsed <= TimeSpan.Zero) return;
        double instant = (total - _lastTotal) / elapsed.TotalSeconds;
        _lastTotal = total;
        _rate = _rate == 0 ? instant : _rate + Smoothing * (instant - _rate);
        if (_rate < 1) _rate = 0;
    }
}
