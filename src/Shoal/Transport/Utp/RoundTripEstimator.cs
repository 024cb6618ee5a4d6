namespace Shoal.Transport.Utp;

/// <summary>
/// Smoothed round-trip time and its mean deviation, and the retransmission timeout derived from them (BEP 29:
/// <c>rtt += (sample - rtt) / 8</c>, <c>rtt_var += (|rtt - sample| - rtt_var) / 4</c>,
/// <c>timeout = max(rtt + 4 rtt_var, 500 ms)</c>, 1 s before the first sample). Only packets sent once are sampled
/// (the caller's job), so an ack of a retransmission never pairs with the wrong send time.
/// </summary>
internal sealed class RoundTripEstimator
{
    /// <summary>Timeout before any sample (BEP 29).</summary>
    public const long InitialTimeoutMicros = 1_000_000;

    private readonly long _minimumTimeoutMicros;

    /// <summary>Creates an estimator whose timeout never goes below <paramref name="minimumTimeoutMicros"/>.</summary>
    public RoundTripEstimator(long minimumTimeoutMicros = 500_000)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(minimumTimeoutMicros);
        _minimumTimeoutMicros = minimumTimeoutMicros;
    }

    /// <summary>True once a sample has been taken.</summary>
    public bool HasSample { get; private set; }

    /// <summary>Smoothed round-trip time in microseconds (0 before the first sample).</summary>
    public long SmoothedMicros { get; private set; }

    /// <summary>Mean deviation of the round-trip time in microseconds.</summary>
    public long VarianceMicros { get; private set; }

    /// <summary>The retransmission timeout in microseconds.</summary>
    public long TimeoutMicros => HasSample
        ? Math.Max(SmoothedMicros + 4 * VarianceMicros, _minimumTimeoutMicros)
        : Math.Max(InitialTimeoutMicros, _minimumTimeoutMicros);

    /// <summary>Adds one measured round trip.</summary>
    public void AddSample(long rttMicros)
    {
        if (rttMicros < 0) rttMicros = 0;
        if (!HasSample)
        {
            SmoothedMicros = rttMicros;
            VarianceMicros = rttMicros / 2;
            HasSample = true;
            return;
        }

        long delta = SmoothedMicros - rttMicros;
        VarianceMicros += (Math.Abs(delta) - VarianceMicros) / 4;
        SmoothedMicros += (rttMicros - SmoothedMicros) / 8;
    }
}
