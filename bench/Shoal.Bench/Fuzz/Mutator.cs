namespace Shoal.Bench.Fuzz;

/// <summary>
/// Coverage-less byte mutations: bit flips, interesting bytes, truncation, insertion, deletion, splicing two
/// inputs, chunk duplication and bencode integer/length edits. Stacks one to four of them per input.
/// </summary>
internal sealed class Mutator(Random random, int maxLength)
{
    private static readonly byte[] Interesting = [0, 0xFF, 0x7F, 0x80, (byte)'0', (byte)'1', (byte)'2', (byte)'3', (byte)'4', (byte)'5', (byte)'6', (byte)'7', (byte)'8', (byte)'9', (byte)'e', (byte)'i', (byte)'l', (byte)'d', (byte)':', (byte)'-', (byte)'%', (byte)'&', (byte)'='];

    private static readonly string[] Numbers =
    [
        "0", "1", "-1", "-0", "00", "01", "2", "19", "20", "127", "128", "255", "256", "16384", "16385", "65535", "65536", "2147483647",
        "2147483648", "-2147483648", "4294967295", "4294967296", "9223372036854775807", "9223372036854775808",
        "-9223372036854775808", "-9223372036854775809", "99999999999999999999999", "",
    ];

    /// <summary>Returns a mutated copy of <paramref name="input"/>; <paramref name="other"/> feeds splicing.</summary>
    public byte[] Mutate(byte[] input, byte[] other)
    {
        var data = new List<byte>(input);
        for (int rounds = random.Next(1, 5); rounds > 0; rounds--) MutateOnce(data, other);
        if (data.Count > maxLength) data.RemoveRange(maxLength, data.Count - maxLength);
        return [.. data];
    }

    private void MutateOnce(List<byte> data, byte[] other)
    {
        switch (random.Next(9))
        {
            case 0: // bit flips
                if (data.Count == 0) goto case 3;
                for (int i = random.Next(1, 4); i > 0; i--)
                {
                    int at = random.Next(data.Count);
                    data[at] ^= (byte)(1 << random.Next(8));
                }
                break;
            case 1: // interesting byte
                if (data.Count == 0) goto case 3;
                data[random.Next(data.Count)] = Interesting[random.Next(Interesting.Length)];
                break;
            case 2: // truncation
                if (data.Count > 0)
                {
                    int keep = random.Next(data.Count);
                    data.RemoveRange(keep, data.Count - keep);
                }
                break;
            case 3: // insertion: random or interesting bytes
                {
                    int at = random.Next(data.Count + 1);
                    int count = random.Next(1, 9);
                    for (int i = 0; i < count; i++)
                        data.Insert(at, random.Next(2) == 0 ? Interesting[random.Next(Interesting.Length)] : (byte)random.Next(256));
                    break;
                }
            case 4: // deletion of a chunk
                if (data.Count < 2) goto case 3;
                {
                    int from = random.Next(data.Count);
                    data.RemoveRange(from, random.Next(1, Math.Min(32, data.Count - from) + 1));
                }
                break;
            case 5: // splice: a prefix of this input and a suffix of another
                {
                    int keep = random.Next(data.Count + 1);
                    data.RemoveRange(keep, data.Count - keep);
                    if (other.Length > 0) data.AddRange(other.AsSpan(random.Next(other.Length)));
                    break;
                }
            case 6: // duplicate a chunk somewhere else
                if (data.Count < 2) goto case 3;
                {
                    int from = random.Next(data.Count);
                    byte[] chunk = [.. data.GetRange(from, random.Next(1, Math.Min(64, data.Count - from) + 1))];
                    int times = random.Next(8) == 0 ? random.Next(2, 64) : 1;
                    int at = random.Next(data.Count + 1);
                    for (int t = 0; t < times; t++) data.InsertRange(at, chunk);
                    break;
                }
            default: // bencode integer or string-length edit: replace a run of digits (and its sign)
                {
                    if (data.Count == 0) goto case 3;
                    int start = random.Next(data.Count);
                    int digits = -1;
                    for (int i = 0; i < data.Count; i++)
                    {
                        int at = (start + i) % data.Count;
                        if (data[at] is >= (byte)'0' and <= (byte)'9') { digits = at; break; }
                    }
                    if (digits < 0) goto case 1;
                    int begin = digits, end = digits;
                    while (begin > 0 && data[begin - 1] is >= (byte)'0' and <= (byte)'9' or (byte)'-') begin--;
                    while (end < data.Count && data[end] is >= (byte)'0' and <= (byte)'9') end++;
                    string current = System.Text.Encoding.ASCII.GetString([.. data.GetRange(begin, end - begin)]);
                    string replacement = random.Next(3) switch
                    {
                        0 when long.TryParse(current, out long value) => (value + random.Next(-3, 4)).ToString(System.Globalization.CultureInfo.InvariantCulture),
                        1 => random.Next(0, 100_000).ToString(System.Globalization.CultureInfo.InvariantCulture),
                        _ => Numbers[random.Next(Numbers.Length)],
                    };
                    data.RemoveRange(begin, end - begin);
                    data.InsertRange(begin, System.Text.Encoding.ASCII.GetBytes(replacement));
                    break;
                }
        }
    }
}
