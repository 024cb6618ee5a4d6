namespace Shoal.Cli.Reporting;

/// <summary>
/// Receives cumulative byte counts from any thread and keeps the largest, so out-of-order reports never move
/// progress backwards. Read by a display loop; no synchronization context involved (unlike <see cref="Progress{T}"/>).
/// </summary>
internal sealed class ByteProgress : IProgress<long>
{
    private long _bytes;

    /// <summary>The most bytes reported so far.</summary>
    public long Bytes => Volatile.Read(ref _bytes);

    /// <inheritdoc />
    public void Report(long value)
    {
        long seen = Volatile.Read(ref _bytes);
        while (value > seen)
        {
            long previous = Interlocked.CompareExchange(ref _bytes, value, seen);
            if (previous == seen) return;
            seen = previous;
        }
    }
}
