using System.Buffers;
using System.Globalization;
using System.Text;

namespace Shoal.Bencoding;

/// <summary>
/// Streams bencode into an <see cref="IBufferWriter{T}"/> without building a DOM. The caller writes
/// dictionary keys in sorted raw-byte order; <see cref="WriteValue"/> does that itself.
/// </summary>
public sealed class BencodeWriter
{
    /// <summary>Deepest nesting <see cref="WriteValue"/> will follow; deeper means a cycle or a runaway structure.</summary>
    public const int MaxValueDepth = 100_000;

    private const int MaxInt64Chars = 20;
    private readonly IBufferWriter<byte> _output;

    /// <summary>Creates a writer appending to <paramref name="output"/>.</summary>
    public BencodeWriter(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        _output = output;
    }

    /// <summary>Lists and dictionaries opened and not yet ended.</summary>
    public int Depth { get; private set; }

    /// <summary>Writes <c>i&lt;value&gt;e</c>.</summary>
    public void WriteInteger(long value)
    {
        Span<byte> span = _output.GetSpan(MaxInt64Chars + 2);
        span[0] = (byte)'i';
        value.TryFormat(span[1..], out int written, default, CultureInfo.InvariantCulture);
        span[1 + written] = (byte)'e';
        _output.Advance(written + 2);
    }

    /// <summary>Writes a byte string: its length, ':', then the bytes.</summary>
    public void WriteString(ReadOnlySpan<byte> bytes)
    {
        WriteLengthPrefix(bytes.Length);
        _output.Write(bytes);
    }

    /// <summary>Writes text as a UTF-8 byte string.</summary>
    public void WriteString(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int length = Encoding.UTF8.GetByteCount(text);
        WriteLengthPrefix(length);
        if (length == 0) return;
        Span<byte> span = _output.GetSpan(length);
        Encoding.UTF8.GetBytes(text, span);
        _output.Advance(length);
    }

    /// <summary>Opens a list; close it with <see cref="WriteEnd"/>.</summary>
    public void WriteListStart() => WriteMarker((byte)'l', +1);

    /// <summary>Opens a dictionary; write key/value pairs with keys in sorted order, then <see cref="WriteEnd"/>.</summary>
    public void WriteDictionaryStart() => WriteMarker((byte)'d', +1);

    /// <summary>Closes the innermost open list or dictionary.</summary>
    public void WriteEnd()
    {
        if (Depth == 0) throw new InvalidOperationException("no open list or dictionary to end");
        WriteMarker((byte)'e', -1);
    }

    /// <summary>Copies an already bencoded value verbatim (for example a torrent's original info dictionary).</summary>
    public void WriteRaw(ReadOnlySpan<byte> encodedValue) => _output.Write(encodedValue);

    /// <summary>Writes a whole value tree in canonical form. Iterative, so deep trees cannot overflow the stack.</summary>
    public void WriteValue(BValue value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var stack = new Stack<(BValue Container, int Index)>();
        BValue? next = value;
        while (true)
        {
            if (next is not null)
            {
                switch (next)
                {
                    case BInteger integer:
                        WriteInteger(integer.Value);
                        break;
                    case BString str:
                        WriteString(str.Bytes.Span);
                        break;
                    case BList:
                    case BDictionary:
                        if (stack.Count >= MaxValueDepth)
                            throw new InvalidOperationException($"value nests deeper than {MaxValueDepth} levels (a cycle?)");
                        WriteMarker(next is BList ? (byte)'l' : (byte)'d', +1);
                        stack.Push((next, 0));
                        break;
                    default:
                        throw new InvalidOperationException($"unknown value type {next.GetType().Name}");
                }
                next = null;
            }

            if (stack.Count == 0) return;
            (BValue container, int index) = stack.Pop();
            if (container is BList list)
            {
                if (index < list.Count)
                {
                    stack.Push((list, index + 1));
                    next = list[index];
                }
                else WriteEnd();
            }
            else
            {
                var dict = (BDictionary)container;
                if (index < dict.Count)
                {
                    stack.Push((dict, index + 1));
                    KeyValuePair<BString, BValue> entry = dict.EntryAt(index);
                    WriteString(entry.Key.Bytes.Span);
                    next = entry.Value;
                }
                else WriteEnd();
            }
        }
    }

    private void WriteLengthPrefix(int length)
    {
        Span<byte> span = _output.GetSpan(12);
        length.TryFormat(span, out int written, default, CultureInfo.InvariantCulture);
        span[written] = (byte)':';
        _output.Advance(written + 1);
    }

    private void WriteMarker(byte marker, int depthChange)
    {
        Span<byte> span = _output.GetSpan(1);
        span[0] = marker;
        _output.Advance(1);
        Depth += depthChange;
    }
}
