namespace Shoal.Dht;

/// <summary>
/// Round-trip time of a node's queries, smoothed as RFC 6298 does for TCP (SRTT and RTTVAR, gains 1/8 and 1/4), and
/// the soft timeout it gives: SRTT + 4·RTTVAR, clamped to [<see cref="MinTimeout"/>, <see cref="MaxTimeout"/>]. The
/// soft timeout is when a lookup stops waiting for a node (it may still answer), so it follows the network rather than
/// a constant: 100 ms on a LAN, a few hundred on the Internet, the upper bound before anything is known. Pure and
/// single-owner.
/// </summary>
public sealed class RttEstimator
{
    private double _srttMs = -1;
    private double _rttvarMs;

    /// <summary>Creates an estimator with no sample yet.</summary>
    /// <param name="minTimeout">Lower bound of <see cref="SoftTimeout"/>.</param>
    /// <param name="maxTimeout">Upper bound of <see cref="SoftTimeout"/>, and its value before the first sample.</param>
    public RttEstimator(TimeSpan minTimeout, TimeSpan maxTimeout)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(minTimeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTimeout, minTimeout);
        MinTimeout = minTimeout;
        MaxTimeout = maxTimeout;
    }

    /// <summary>Lower bound of <see cref="SoftTimeout"/>.</summary>
    public TimeSpan MinTimeout { get; }

    /// <summary>Upper bound of <see cref="SoftTimeout"/>.</summary>
    public TimeSpan MaxTimeout { get; }

    /// <summary>Whether any sample arrived.</summary>
    public bool HasSample => _srttMs >= 0;

    /// <summary>The smoothed round-trip time; null before the first sample.</summary>
    public TimeSpan? Smoothed => HasSample ? TimeSpan.FromMilliseconds(_srttMs) : null;

    /// <summary>The smoothed mean deviation; null before the first sample.</summary>
    public TimeSpan? Variation => HasSample ? TimeSpan.FromMilliseconds(_rttvarMs) : null;

    /// <summary>SRTT + 4·RTTVAR within the bounds; <see cref="MaxTimeout"/> before the first sample.</summary>
    public TimeSpan SoftTimeout
    {
        get
        {
            if (!HasSample) return MaxTimeout;
            var t = TimeSpan.FromMilliseconds(_srttMs + (4 * _rttvarMs));
            return t < MinTimeout ? MinTimeout : t > MaxTimeout ? MaxTimeout : t;
        }
    }

    /// <summary>Adds one measured round trip (a negative one, from a clock step, is ignored).</summary>
    /// <returns>True when it was the first sample (the caller may re-time what it started blind).</returns>
    public bool AddSample(TimeSpan roundTrip)
    {
        double ms = roundTrip.TotalMilliseconds;
        if (ms < 0 || double.IsNaN(ms)) return false;
        if (!HasSample)
        {
            _srttMs = ms;
            _rttvarMs = ms / 2;
            return true;
        }
        _rttvarMs = (0.75 * _rttvarMs) + (0.25 * Math.Abs(_srttMs - ms));
        _srttMs = (0.875 * _srttMs) + (0.125 * ms);
        return false;
    }
}
