using System.Collections.Concurrent;

namespace Shoal.Storage;

/// <summary>A small thread-safe pool that keeps at most a fixed number of idle objects; extra returns are dropped to the GC.</summary>
internal sealed class BoundedObjectPool<T> where T : class
{
    private ConcurrentQueue<T>? _items; // created on the first return: a pool never used (an idle torrent's) costs ~1 KiB less
    private readonly int _max;
    private int _count;

    public BoundedObjectPool(int max) => _max = max;

    /// <summary>
    /// An idle object, or null when there is none: the caller makes one then (no factory delegate is kept, which
    /// for a pool owned by each of thousands of torrents and capturing its owner would cost a delegate each).
    /// </summary>
    public T? TryRent()
    {
        if (Volatile.Read(ref _items) is { } items && items.TryDequeue(out T? item))
        {
            Interlocked.Decrement(ref _count);
            return item;
        }
        return null;
    }

    public void Return(T item)
    {
        if (Interlocked.Increment(ref _count) > _max)
        {
            Interlocked.Decrement(ref _count);
            return;
        }
        ConcurrentQueue<T> items = Volatile.Read(ref _items) ?? Interlocked.CompareExchange(ref _items, new ConcurrentQueue<T>(), null) ?? _items!;
        items.Enqueue(item);
    }
}
