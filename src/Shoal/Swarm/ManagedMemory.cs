namespace Shoal.Swarm;

/// <summary>What the garbage collector holds, read cheaply: everything allocated so far, and at its last collection the heap and the memory committed for it.</summary>
internal readonly record struct ManagedMemoryReading(long AllocatedBytes, long HeapBytes, long CommittedBytes);

/// <summary>The process's managed memory, as <see cref="IdleMemoryRelease"/> sees it (tests give it a scripted one).</summary>
internal interface IManagedMemory
{
    ManagedMemoryReading Read();

    /// <summary>Collects everything and gives the free memory back to the operating system; returns the bytes committed after.</summary>
    long GiveBack();
}

/// <summary>The runtime's garbage collector.</summary>
internal sealed class RuntimeManagedMemory : IManagedMemory
{
    public static readonly RuntimeManagedMemory Instance = new();

    private RuntimeManagedMemory() { }

    public ManagedMemoryReading Read()
    {
        GCMemoryInfo last = GC.GetGCMemoryInfo();
        return new ManagedMemoryReading(GC.GetTotalAllocatedBytes(precise: false), last.HeapSizeBytes, last.TotalCommittedBytes);
    }

    public long GiveBack()
    {
        // Aggressive: a blocking, compacting collection of every generation that also decommits the free regions the
        // collector would otherwise keep for allocations to come (an ordinary collection keeps them).
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        return GC.GetGCMemoryInfo().TotalCommittedBytes;
    }
}
