namespace Shoal.Transport.Utp;

/// <summary>
/// LEDBAT congestion control (BEP 29, RFC 6817) for one connection: a congestion window in bytes that grows while
/// the measured queuing delay stays under the target and shrinks in proportion as it rises above it, so uTP fills
/// an idle link yet yields to interactive traffic as soon as a queue builds. Loss halves the window as TCP does
/// (at most once per round trip, which the caller enforces) and a timeout restarts from one packet in slow start.
/// Slow start grows the window by the bytes acked until the delay reaches the target or a loss happens (libtorrent
/// does the same; without it a connection would take minutes to reach a fast link's capacity). Pure arithmetic.
/// </summary>
internal sealed class LedbatController
{
    private readonly long _targetDelayMicros;
    private readonly double _gainBytesPerRtt;
    private readonly double _maxWindow;
    private readonly double _lossFactor;

    /// <summary>Creates a controller with an initial window of <paramref name="initialWindow"/> bytes, in slow start.</summary>
    public LedbatController(long targetDelayMicros, int gainBytesPerRtt, int initialWindow, int maxWindow, double lossFactor = 0.5)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(targetDelayMicros);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(gainBytesPerRtt);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(initialWindow);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxWindow, initialWindow);
        if (lossFactor is <= 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(lossFactor));
        _targetDelayMicros = targetDelayMicros;
        _gainBytesPerRtt = gainBytesPerRtt;
        _maxWindow = maxWindow;
        _lossFactor = lossFactor;
        Window = initialWindow;
    }

    /// <summary>Bytes allowed in flight (fractional: small gains accumulate).</summary>
    public double Window { get; private set; }

    /// <summary>True while the window still grows exponentially.</summary>
    public bool InSlowStart { get; private set; } = true;

    /// <summary>The window at which slow start ends next time (0: none yet).</summary>
    public double SlowStartThreshold { get; private set; }

    /// <summary>The last queuing delay the controller acted on, in microseconds.</summary>
    public long LastQueuingDelayMicros { get; private set; }

    /// <summary>
    /// Applies one acknowledgement: <paramref name="ackedBytes"/> of the <paramref name="inFlightBefore"/> bytes in
    /// flight were acked, with <paramref name="queuingDelayMicros"/> of measured queuing delay. The window only grows
    /// when <paramref name="windowFull"/> (the sender was limited by it, not by the application), but it shrinks
    /// whenever the delay is above target.
    /// </summary>
    public void OnAck(int ackedBytes, int inFlightBefore, long queuingDelayMicros, bool windowFull)
    {
        if (ackedBytes <= 0 || inFlightBefore <= 0) return;
        LastQueuingDelayMicros = queuingDelayMicros;
        double delayFactor = (double)(_targetDelayMicros - queuingDelayMicros) / _targetDelayMicros;
        double windowFactor = Math.Min(1.0, (double)ackedBytes / inFlightBefore);
        double linearGain = _gainBytesPerRtt * delayFactor * windowFactor;

        if (queuingDelayMicros >= _targetDelayMicros && InSlowStart)
        {
            SlowStartThreshold = Window / 2;
            InSlowStart = false;
        }

        double gain;
        if (linearGain < 0)
        {
            gain = linearGain; // a queue is building: back off whether or not the window was full
        }
        else if (!windowFull)
        {
            gain = 0; // the application, not the window, limits the rate: growing it would measure nothing
        }
        else if (InSlowStart)
        {
            if (SlowStartThreshold > 0 && Window + ackedBytes > SlowStartThreshold)
            {
                InSlowStart = false;
                gain = linearGain;
            }
            else
            {
                gain = Math.Max(ackedBytes, linearGain);
            }
        }
        else
        {
            gain = linearGain;
        }

        Window = Math.Clamp(Window + gain, 0, _maxWindow);
    }

    /// <summary>A packet was lost: the window shrinks by the loss factor, to no less than one packet, and slow start ends.</summary>
    public void OnLoss(int packetSize)
    {
        Window = Math.Max(Window * _lossFactor, packetSize);
        if (InSlowStart)
        {
            SlowStartThreshold = Window;
            InSlowStart = false;
        }
    }

    /// <summary>
    /// The retransmission timer expired. With data in flight the path is in trouble: restart from one packet in slow
    /// start (which ends at the threshold the last loss left). An idle direction only decays the window.
    /// </summary>
    public void OnTimeout(int packetSize, bool idle)
    {
        if (idle)
        {
            Window = Math.Max(Window * 2 / 3, packetSize);
            return;
        }
        Window = packetSize;
        InSlowStart = true;
    }

    /// <summary>Raises the window to at least <paramref name="bytes"/> (a larger packet size was found).</summary>
    public void EnsureAtLeast(int bytes)
    {
        if (Window < bytes) Window = Math.Min(bytes, _maxWindow);
    }
}
