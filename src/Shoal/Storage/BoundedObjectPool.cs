using System.Collections.Concurrent;

namespace Shoal.Storage;

/// <summary>A small thread-safe pool that keeps at most a fixed number of idle objects; extra returns are dropped to the GC.</summary>
internal sealed class BoundedObjectPool<T> where T : class
{
    private readonly ConcurrentQueue<T> _items = new();
    private readonly Func<T> _factory;
    private readonly int _max;
    private int _count;

    public BoundedObjectPool(Func<T> factory, int max)
    {
        _factory = factory;
        _max = max;
    }

    public T Rent()
    {
        if (_items.TryDequeue(out T? item))
        {
            Interlocked.Decrement(ref _count);
            return item;
        }
        return _factory();
    }

    public void Return(T item)
    {
        if (Interlocked.Increment(ref _count) <= _max) _items.Enqueue(item);
        else Interlocked.Decrement(ref _count);
    }
}
