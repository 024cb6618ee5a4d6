using System.Collections;

namespace Shoal.Bencoding;

/// <summary>A bencoded list (<c>l...e</c>).</summary>
public sealed class BList : BValue, IReadOnlyList<BValue>
{
    private readonly List<BValue> _items;

    /// <summary>Creates an empty list.</summary>
    public BList() => _items = [];

    /// <summary>Creates a list holding the given values.</summary>
    public BList(IEnumerable<BValue> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        _items = [.. items];
        foreach (BValue item in _items) ArgumentNullException.ThrowIfNull(item, nameof(items));
    }

    /// <inheritdoc />
    public int Count => _items.Count;

    /// <inheritdoc />
    public BValue this[int index] => _items[index];

    /// <summary>Appends a value.</summary>
    public void Add(BValue value)
    {
        ArgumentNullException.ThrowIfNull(value);
        _items.Add(value);
    }

    /// <summary>Enumerates the values in order without allocating.</summary>
    public List<BValue>.Enumerator GetEnumerator() => _items.GetEnumerator();

    IEnumerator<BValue> IEnumerable<BValue>.GetEnumerator() => _items.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => _items.GetEnumerator();
}
