namespace Shoal.Swarm;

// Giving back what a burst of work left behind (see IdleMemoryRelease): one look at the managed heap every few seconds.
public sealed partial class ShoalSession
{
    private int _memoryReleases;

    /// <summary>How many times the session gave memory back after a burst (for tests and diagnostics).</summary>
    internal int MemoryReleases => Volatile.Read(ref _memoryReleases);

    private async Task IdleMemoryLoopAsync(IManagedMemory memory)
    {
        CancellationToken stop = _shutdown.Token;
        TimeProvider time = _context.Time;
        var release = new IdleMemoryRelease(time.TimestampFrequency, memory.Read().AllocatedBytes);
        try
        {
            while (true)
            {
                await Task.Delay(IdleMemoryRelease.SampleInterval, time, stop).ConfigureAwait(false);
                ManagedMemoryReading reading = memory.Read();
                if (!release.Observe(reading, time.GetTimestamp())) continue;
                long after = memory.GiveBack();
                release.Released(memory.Read().AllocatedBytes, time.GetTimestamp());
                Interlocked.Increment(ref _memoryReleases);
                _context.Log($"quiet after a burst of work: gave back {(reading.CommittedBytes - after) >> 20} MiB of memory (committed {reading.CommittedBytes >> 20} MiB, now {after >> 20} MiB)");
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }
}
