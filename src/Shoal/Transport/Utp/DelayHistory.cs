namespace Shoal.Transport.Utp;

/// <summary>
/// The base delay of LEDBAT: the lowest one-way delay sample seen over the last minutes, kept as one minimum per
/// minute in a ring (RFC 6817's BASE_HISTORY of 10 minutes), so a route change that raises the true base delay ages
/// out of the history instead of being mistaken for congestion forever. Samples are raw timestamp differences
/// (the two clocks are not synchronised), compared with 32-bit wrap-around; only differences to the base mean
/// anything. Not thread-safe: owned by one connection.
/// </summary>
internal sealed class DelayHistory
{
    /// <summary>Minutes of history (one minimum each).</summary>
    public const int Buckets = 10;

    /// <summary>Length of one bucket in microseconds.</summary>
    public const long BucketMicros = 60_000_000;

    private readonly uint[] _minima = new uint[Buckets];
    private int _index;
    private long _bucketStart;

    /// <summary>True once a sample has been added.</summary>
    public bool IsInitialized { get; private set; }

    /// <summary>The lowest sample in the history.</summary>
    public uint Base { get; private set; }

    /// <summary>
    /// Adds a sample taken at <paramref name="nowMicros"/> and returns how far above the base it is (the queuing
    /// delay it suggests), in microseconds.
    /// </summary>
    public uint Add(uint sample, long nowMicros)
    {
        if (!IsInitialized)
        {
            Array.Fill(_minima, sample);
            Base = sample;
            _bucketStart = nowMicros;
            IsInitialized = true;
        }

        long elapsed = nowMicros - _bucketStart;
        if (elapsed >= BucketMicros)
        {
            // A connection idle for minutes steps as many buckets as minutes went by, so stale minima expire too.
            long steps = Math.Min(Buckets, elapsed / BucketMicros);
            for (long i = 0; i < steps; i++)
            {
                _index = (_index + 1) % Buckets;
                _minima[_index] = sample;
            }
            _bucketStart = nowMicros;
            Base = sample;
            foreach (uint minimum in _minima)
            {
                if (IsLess(minimum, Base)) Base = minimum;
            }
        }

        if (IsLess(sample, _minima[_index])) _minima[_index] = sample;
        if (IsLess(sample, Base)) Base = sample;
        return sample - Base;
    }

    /// <summary>
    /// Moves the base by <paramref name="change"/> microseconds (clock drift compensation: when the other side's
    /// base delay falls, its clock runs slower than ours and ours appears to rise by the same amount).
    /// </summary>
    public void AdjustBase(int change)
    {
        if (!IsInitialized) return;
        Base = (uint)(Base + change);
        for (int i = 0; i < _minima.Length; i++)
        {
            if (IsLess(_minima[i], Base)) _minima[i] = Base;
        }
    }

    private static bool IsLess(uint a, uint b) => (int)(a - b) < 0;
}
