namespace Shoal.Bencoding;

/// <summary>
/// The decoder. Iterative with an explicit stack, so nesting depth is bounded by
/// <see cref="BencodeLimits.MaxDepth"/> rather than by the thread's stack.
/// </summary>
/// <remarks>
/// Strict mode refuses anything that is not canonical bencode. Lenient mode reads what libtorrent's
/// <c>bdecode</c> reads (it is how real .torrent files from old creators are opened): dictionary keys in any
/// order, a repeated key (the first value wins, as libtorrent's <c>dict_find</c> returns the first match),
/// leading zeros in integers and string lengths, <c>-0</c>, and integers of up to 20 digits that overflow 64 bits
/// (read as 0, as libtorrent's <c>int_value</c> does). Every such deviation clears <see cref="BValue.IsCanonical"/>
/// on the value and on each container around it, so a caller that needs canonical input (a BEP 52 info
/// dictionary) can still refuse it.
/// </remarks>
internal static class BencodeParser
{
    private sealed class Frame(BValue container, int start)
    {
        public readonly BValue Container = container;
        public readonly int Start = start;
        public BString? PendingKey;
        public BString? LastKey;
        public bool Canonical = true;
    }

    /// <summary>Most digits libtorrent accepts in an integer; more is an error even in lenient mode.</summary>
    private const int MaxLenientIntegerDigits = 20;

    public static BValue Parse(ReadOnlyMemory<byte> input, BencodeLimits limits, bool wholeInput, out int consumed) =>
        Parse(input, limits, wholeInput, lenient: false, out consumed);

    public static BValue Parse(ReadOnlyMemory<byte> input, BencodeLimits limits, bool wholeInput, bool lenient, out int consumed)
    {
        ArgumentNullException.ThrowIfNull(limits);
        ReadOnlySpan<byte> span = input.Span;
        if (span.Length > limits.MaxInputLength)
            throw new BencodeException($"input is {span.Length} bytes, more than the limit of {limits.MaxInputLength}");
        if (span.Length == 0) throw new BencodeException("input is empty");

        var stack = new List<Frame>();
        int pos = 0;
        int items = 0;
        while (true)
        {
            if (pos >= span.Length) throw new BencodeException($"input ends at offset {pos} inside an unfinished value");
            byte b = span[pos];
            Frame? top = stack.Count > 0 ? stack[^1] : null;
            if (top is { Container: BDictionary, PendingKey: null } && b != (byte)'e' && !IsDigit(b))
                throw new BencodeException($"dictionary key at offset {pos} must be a byte string");

            BValue value;
            switch (b)
            {
                case (byte)'i':
                    value = ReadInteger(input, span, ref pos, lenient);
                    break;
                case >= (byte)'0' and <= (byte)'9':
                    value = ReadString(input, span, ref pos, lenient);
                    break;
                case (byte)'l':
                case (byte)'d':
                    if (stack.Count >= limits.MaxDepth)
                        throw new BencodeException($"nesting at offset {pos} is deeper than the limit of {limits.MaxDepth}");
                    if (++items > limits.MaxItems)
                        throw new BencodeException($"more than {limits.MaxItems} values");
                    stack.Add(new Frame(b == (byte)'l' ? new BList() : new BDictionary(), pos));
                    pos++;
                    continue;
                case (byte)'e':
                    if (top is null) throw new BencodeException($"unexpected 'e' at offset {pos}");
                    if (top.PendingKey is not null)
                        throw new BencodeException($"dictionary key {top.PendingKey} at offset {top.PendingKey.SourceStart} has no value");
                    stack.RemoveAt(stack.Count - 1);
                    pos++;
                    top.Container.SetSource(input, top.Start, pos - top.Start);
                    top.Container.IsCanonical = top.Canonical;
                    value = top.Container;
                    top = stack.Count > 0 ? stack[^1] : null;
                    items--; // the container was counted when it opened
                    break;
                case (byte)'-':
                    throw new BencodeException($"negative string length at offset {pos}");
                default:
                    throw new BencodeException($"unexpected byte 0x{b:x2} at offset {pos}");
            }

            if (++items > limits.MaxItems) throw new BencodeException($"more than {limits.MaxItems} values");

            if (top is null)
            {
                consumed = pos;
                if (wholeInput && pos != span.Length)
                    throw new BencodeException($"{span.Length - pos} trailing bytes after the value at offset {pos}");
                return value;
            }

            if (!value.IsCanonical) top.Canonical = false;
            switch (top.Container)
            {
                case BList list:
                    list.Add(value);
                    break;
                case BDictionary when top.PendingKey is null:
                    var key = (BString)value; // guaranteed by the key check above
                    if (top.LastKey is not null)
                    {
                        int cmp = top.LastKey.Bytes.Span.SequenceCompareTo(key.Bytes.Span);
                        if (cmp >= 0)
                        {
                            if (!lenient)
                            {
                                throw new BencodeException(cmp == 0
                                    ? $"duplicate dictionary key {key} at offset {key.SourceStart}"
                                    : $"dictionary key {key} at offset {key.SourceStart} is out of order (keys must be sorted)");
                            }
                            top.Canonical = false;
                        }
                    }
                    top.PendingKey = key;
                    break;
                case BDictionary dict:
                    if (top.Canonical) dict.AddSorted(top.PendingKey!, value);
                    else dict.AddFirstWins(top.PendingKey!, value);
                    // LastKey tracks the input order, so the canonical check compares neighbours as written.
                    top.LastKey = top.PendingKey;
                    top.PendingKey = null;
                    break;
            }
        }
    }

    private static bool IsDigit(byte b) => b is >= (byte)'0' and <= (byte)'9';

    private static BInteger ReadInteger(ReadOnlyMemory<byte> input, ReadOnlySpan<byte> span, ref int pos, bool lenient)
    {
        int start = pos;
        pos++; // 'i'
        bool negative = false;
        if (pos < span.Length && span[pos] == (byte)'-')
        {
            negative = true;
            pos++;
        }
        int digitsStart = pos;
        long acc = 0; // accumulated as a negative number so long.MinValue fits
        bool overflow = false;
        while (pos < span.Length && IsDigit(span[pos]))
        {
            int d = span[pos] - '0';
            if (acc < long.MinValue / 10 || (acc == long.MinValue / 10 && d > 8))
            {
                if (!lenient) throw new BencodeException($"integer at offset {start} does not fit in 64 bits");
                overflow = true;
            }
            else
            {
                acc = (acc * 10) - d;
            }
            pos++;
        }
        if (pos >= span.Length) throw new BencodeException($"input ends inside the integer at offset {start}");
        int digits = pos - digitsStart;
        if (digits == 0) throw new BencodeException($"integer at offset {start} has no digits");
        if (span[pos] != (byte)'e') throw new BencodeException($"unexpected byte 0x{span[pos]:x2} in the integer at offset {start}");
        bool canonical = true;
        if (span[digitsStart] == (byte)'0' && digits > 1)
        {
            if (!lenient) throw new BencodeException($"integer at offset {start} has a leading zero");
            canonical = false;
        }
        if (negative && acc == 0)
        {
            if (!lenient) throw new BencodeException($"integer at offset {start} is '-0'");
            canonical = false;
        }
        if (!negative && acc == long.MinValue)
        {
            if (!lenient) throw new BencodeException($"integer at offset {start} does not fit in 64 bits");
            overflow = true;
        }
        if (overflow)
        {
            if (digits > MaxLenientIntegerDigits) throw new BencodeException($"integer at offset {start} has more than {MaxLenientIntegerDigits} digits");
            canonical = false;
            acc = 0;
        }
        pos++; // 'e'
        var value = new BInteger(negative ? acc : -acc);
        value.SetSource(input, start, pos - start);
        value.IsCanonical = canonical;
        return value;
    }

    private static BString ReadString(ReadOnlyMemory<byte> input, ReadOnlySpan<byte> span, ref int pos, bool lenient)
    {
        int start = pos;
        long length = 0;
        while (pos < span.Length && IsDigit(span[pos]))
        {
            length = (length * 10) + (span[pos] - '0');
            if (length > span.Length) throw new BencodeException($"string length at offset {start} is longer than the input");
            pos++;
        }
        if (pos >= span.Length) throw new BencodeException($"input ends inside the string length at offset {start}");
        if (span[pos] != (byte)':') throw new BencodeException($"unexpected byte 0x{span[pos]:x2} in the string length at offset {start}");
        bool leadingZero = span[start] == (byte)'0' && pos - start > 1;
        if (leadingZero && !lenient) throw new BencodeException($"string length at offset {start} has a leading zero");
        pos++; // ':'
        if (length > span.Length - pos)
            throw new BencodeException($"string at offset {start} claims {length} bytes but only {span.Length - pos} remain");
        var value = new BString(input.Slice(pos, (int)length));
        pos += (int)length;
        value.SetSource(input, start, pos - start);
        if (leadingZero) value.IsCanonical = false;
        return value;
    }
}
