using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace Shoal.Bench.Engine;

/// <summary>
/// Listens to the runtime's GC AllocationTick events (one about every 100 KB allocated, naming the type that
/// crossed the threshold), so a benchmark can say what is being allocated, not only how much.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private readonly ConcurrentDictionary<string, long> _bytesByType = new();
    private volatile bool _recording;

    public void Start() => _recording = true;

    public void Stop() => _recording = false;

    /// <summary>The sampled types, most bytes first.</summary>
    public IEnumerable<(string Type, long Bytes)> Top(int count)
        => _bytesByType.OrderByDescending(p => p.Value).Take(count).Select(p => (p.Key, p.Value));

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime") EnableEvents(source, EventLevel.Verbose, GcKeyword);
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (!_recording || e.EventName is not { } name || !name.StartsWith("GCAllocationTick", StringComparison.Ordinal) || e.Payload is null) return;
        int typeIndex = e.PayloadNames!.IndexOf("TypeName");
        int amountIndex = e.PayloadNames.IndexOf("AllocationAmount64");
        if (typeIndex < 0) return;
        int kindIndex = e.PayloadNames.IndexOf("AllocationKind");
        // Kind 1 is the large object heap (objects of 85,000 bytes and more): worth telling apart.
        string heap = kindIndex >= 0 && Convert.ToInt32(e.Payload[kindIndex], System.Globalization.CultureInfo.InvariantCulture) == 1 ? " (large object heap)" : "";
        string type = (e.Payload[typeIndex] as string ?? "?") + heap;
        long amount = amountIndex >= 0 && e.Payload[amountIndex] is ulong a ? (long)a : 100_000;
        _bytesByType.AddOrUpdate(type, amount, (_, total) => total + amount);
    }
}
