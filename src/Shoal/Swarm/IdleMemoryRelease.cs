namespace Shoal.Swarm;

/// <summary>
/// Decides when a session that has gone quiet after a burst of work gives the burst's memory back to the operating
/// system. Pure: fed a reading of the managed heap every <see cref="SampleInterval"/>, it answers whether to give back now.
/// </summary>
/// <remarks>
/// Adding or checking thousands of torrents allocates hundreds of megabytes of short-lived objects. The collector
/// frees them but keeps the memory committed for allocations to come, and a quiet process allocates nothing, so
/// nothing ever gives it back: at 10,000 seeds the heap was 100 MiB and the committed memory 200 MiB, for as long as
/// the process ran (libtorrent's allocator gives such memory back by itself). One aggressive collection once the burst
/// is over returns it. It is a pause of some tens of milliseconds, so the rules keep it rare: only after a burst (at
/// least <see cref="BurstBytes"/> allocated since the last one), only when the process has gone quiet (under
/// <see cref="QuietBytes"/> allocated in the last interval: nothing is transferring at speed or being added), only when
/// the collector holds at least <see cref="SurplusBytes"/> beyond its heap, and at most once per
/// <see cref="MinimumSpacing"/>.
/// </remarks>
internal sealed class IdleMemoryRelease
{
    /// <summary>How often the heap is looked at.</summary>
    public static readonly TimeSpan SampleInterval = TimeSpan.FromSeconds(5);

    /// <summary>Allocated since the last release before another is considered: a burst's worth.</summary>
    public const long BurstBytes = 64L << 20;

    /// <summary>Allocated within one interval by a process that counts as quiet.</summary>
    public const long QuietBytes = 1L << 20;

    /// <summary>Committed beyond the heap that is worth a collection to give back.</summary>
    public const long SurplusBytes = 32L << 20;

    /// <summary>Least time between two releases, whatever else happens.</summary>
    public static readonly TimeSpan MinimumSpacing = TimeSpan.FromMinutes(1);

    private readonly long _spacing;
    private long _allocatedAtRelease;
    private long? _previousAllocated;
    private long? _releasedAt;

    /// <param name="timestampFrequency">Ticks per second of the timestamps given to <see cref="Observe"/>.</param>
    /// <param name="allocatedAtStart">What was allocated before the session started (not the session's burst).</param>
    public IdleMemoryRelease(long timestampFrequency, long allocatedAtStart)
    {
        _spacing = (long)(MinimumSpacing.TotalSeconds * timestampFrequency);
        _allocatedAtRelease = allocatedAtStart;
    }

    /// <summary>Takes one reading (at timestamp <paramref name="now"/>); true when the memory should be given back now.</summary>
    public bool Observe(in ManagedMemoryReading reading, long now)
    {
        long? previous = _previousAllocated;
        _previousAllocated = reading.AllocatedBytes;
        if (previous is not long before) return false;
        if (reading.AllocatedBytes - before >= QuietBytes) return false; // busy: the memory would be taken again at once
        if (reading.AllocatedBytes - _allocatedAtRelease < BurstBytes) return false;
        if (_releasedAt is long last && now - last < _spacing) return false;
        if (reading.CommittedBytes - reading.HeapBytes < SurplusBytes)
        {
            // The collector kept little this time: this burst is settled, the next one is counted from here.
            _allocatedAtRelease = reading.AllocatedBytes;
            return false;
        }
        return true;
    }

    /// <summary>The memory was given back at <paramref name="now"/>, with <paramref name="allocated"/> allocated by then.</summary>
    public void Released(long allocated, long now)
    {
        _allocatedAtRelease = allocated;
        _previousAllocated = allocated;
        _releasedAt = now;
    }
}
