using System.Buffers;
using System.Collections;
using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Shoal.Bencoding;

/// <summary>
/// A bencoded dictionary (<c>d...e</c>): byte-string keys kept sorted by raw byte order and unique, so
/// encoding is always canonical whether the dictionary was decoded or built in code.
/// </summary>
/// <remarks>
/// The typed getters (<see cref="GetInteger"/>, <see cref="TryGetString"/>...) throw
/// <see cref="BencodeException"/> naming the key when a value has the wrong type; the TryGet forms return
/// false only when the key is absent.
/// </remarks>
public sealed class BDictionary : BValue, IEnumerable<KeyValuePair<BString, BValue>>
{
    private const int StackKeyBytes = 256;
    private readonly List<KeyValuePair<BString, BValue>> _entries = [];

    /// <summary>Creates an empty dictionary.</summary>
    public BDictionary() { }

    /// <summary>Number of entries.</summary>
    public int Count => _entries.Count;

    /// <summary>The keys in sorted order.</summary>
    public IEnumerable<BString> Keys
    {
        get
        {
            foreach (KeyValuePair<BString, BValue> entry in _entries) yield return entry.Key;
        }
    }

    /// <summary>The value stored under <paramref name="key"/>; throws <see cref="BencodeException"/> when absent.</summary>
    public BValue this[string key] => Get(key);

    /// <summary>Sets <paramref name="key"/> (UTF-8) to <paramref name="value"/>, replacing any earlier value.</summary>
    public void Set(string key, BValue value)
    {
        ArgumentNullException.ThrowIfNull(key);
        Set(new BString(key), value);
    }

    /// <summary>Sets the raw byte-string key to <paramref name="value"/>, replacing any earlier value.</summary>
    public void Set(BString key, BValue value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        int index = Find(key.Bytes.Span);
        if (index >= 0) _entries[index] = new(key, value);
        else _entries.Insert(~index, new(key, value));
    }

    /// <summary>Removes <paramref name="key"/>; false when it was absent.</summary>
    public bool Remove(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        int index = Find(Encoding.UTF8.GetBytes(key));
        if (index < 0) return false;
        _entries.RemoveAt(index);
        return true;
    }

    /// <summary>True when <paramref name="key"/> is present.</summary>
    public bool ContainsKey(string key) => TryGetValue(key, out _);

    /// <summary>Looks up a key given as text (compared as its UTF-8 bytes).</summary>
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out BValue value)
    {
        ArgumentNullException.ThrowIfNull(key);
        int max = Encoding.UTF8.GetMaxByteCount(key.Length);
        byte[]? rented = null;
        Span<byte> buffer = max <= StackKeyBytes ? stackalloc byte[StackKeyBytes] : (rented = ArrayPool<byte>.Shared.Rent(max));
        try
        {
            int written = Encoding.UTF8.GetBytes(key, buffer);
            return TryGetValue(buffer[..written], out value);
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Looks up a raw byte-string key.</summary>
    public bool TryGetValue(ReadOnlySpan<byte> key, [MaybeNullWhen(false)] out BValue value)
    {
        int index = Find(key);
        if (index < 0)
        {
            value = null;
            return false;
        }
        value = _entries[index].Value;
        return true;
    }

    /// <summary>The value under <paramref name="key"/>; throws <see cref="BencodeException"/> when absent.</summary>
    public BValue Get(string key) =>
        TryGetValue(key, out BValue? value) ? value : throw new BencodeException($"missing key '{key}'");

    /// <summary>The byte string under <paramref name="key"/>; throws when absent or not a string.</summary>
    public BString GetString(string key) => As<BString>(key, Get(key), "a byte string");

    /// <summary>The UTF-8 text under <paramref name="key"/>; throws when absent, not a string, or not valid UTF-8.</summary>
    public string GetText(string key) => TextOf(key, GetString(key));

    /// <summary>The integer under <paramref name="key"/>; throws when absent or not an integer.</summary>
    public long GetInteger(string key) => As<BInteger>(key, Get(key), "an integer").Value;

    /// <summary>The list under <paramref name="key"/>; throws when absent or not a list.</summary>
    public BList GetList(string key) => As<BList>(key, Get(key), "a list");

    /// <summary>The dictionary under <paramref name="key"/>; throws when absent or not a dictionary.</summary>
    public BDictionary GetDictionary(string key) => As<BDictionary>(key, Get(key), "a dictionary");

    /// <summary>False when absent; throws <see cref="BencodeException"/> when present but not a byte string.</summary>
    public bool TryGetString(string key, [NotNullWhen(true)] out BString? value) => TryGetAs(key, "a byte string", out value);

    /// <summary>False when absent; throws when present but not a string or not valid UTF-8.</summary>
    public bool TryGetText(string key, [NotNullWhen(true)] out string? value)
    {
        if (!TryGetString(key, out BString? s))
        {
            value = null;
            return false;
        }
        value = TextOf(key, s);
        return true;
    }

    /// <summary>False when absent; throws <see cref="BencodeException"/> when present but not an integer.</summary>
    public bool TryGetInteger(string key, out long value)
    {
        bool found = TryGetAs(key, "an integer", out BInteger? integer);
        value = found ? integer!.Value : 0;
        return found;
    }

    /// <summary>False when absent; throws <see cref="BencodeException"/> when present but not a list.</summary>
    public bool TryGetList(string key, [NotNullWhen(true)] out BList? value) => TryGetAs(key, "a list", out value);

    /// <summary>False when absent; throws <see cref="BencodeException"/> when present but not a dictionary.</summary>
    public bool TryGetDictionary(string key, [NotNullWhen(true)] out BDictionary? value) => TryGetAs(key, "a dictionary", out value);

    /// <summary>Enumerates entries in sorted key order.</summary>
    public List<KeyValuePair<BString, BValue>>.Enumerator GetEnumerator() => _entries.GetEnumerator();

    IEnumerator<KeyValuePair<BString, BValue>> IEnumerable<KeyValuePair<BString, BValue>>.GetEnumerator() => _entries.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => _entries.GetEnumerator();

    internal KeyValuePair<BString, BValue> EntryAt(int index) => _entries[index];

    /// <summary>Appends an entry the decoder has already checked to sort after every existing key.</summary>
    internal void AddSorted(BString key, BValue value) => _entries.Add(new(key, value));

    /// <summary>
    /// Inserts an entry from lenient input in sorted position; a key already present keeps its first value, as
    /// libtorrent's lookups return the first match of a repeated key.
    /// </summary>
    internal void AddFirstWins(BString key, BValue value)
    {
        int index = Find(key.Bytes.Span);
        if (index < 0) _entries.Insert(~index, new(key, value));
    }

    private bool TryGetAs<T>(string key, string what, [NotNullWhen(true)] out T? value) where T : BValue
    {
        if (!TryGetValue(key, out BValue? raw))
        {
            value = null;
            return false;
        }
        value = As<T>(key, raw, what);
        return true;
    }

    private static T As<T>(string key, BValue value, string what) where T : BValue =>
        value as T ?? throw new BencodeException($"key '{key}' must be {what}, not {KindOf(value)}");

    private static string TextOf(string key, BString s) =>
        s.TryGetText(out string? text) ? text : throw new BencodeException($"key '{key}' is not valid UTF-8");

    internal static string KindOf(BValue value) => value switch
    {
        BInteger => "an integer",
        BString => "a byte string",
        BList => "a list",
        BDictionary => "a dictionary",
        _ => "an unknown value",
    };

    /// <summary>Binary search by raw key bytes: the index, or the complement of the insertion point.</summary>
    private int Find(ReadOnlySpan<byte> key)
    {
        int lo = 0, hi = _entries.Count - 1;
        while (lo <= hi)
        {
            int mid = lo + ((hi - lo) >> 1);
            int cmp = _entries[mid].Key.Bytes.Span.SequenceCompareTo(key);
            if (cmp == 0) return mid;
            if (cmp < 0) lo = mid + 1;
            else hi = mid - 1;
        }
        return ~lo;
    }
}
