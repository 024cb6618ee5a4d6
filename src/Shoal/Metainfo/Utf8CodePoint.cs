namespace Shoal.Metainfo;

/// <summary>
/// Decodes one UTF-8 sequence the way libtorrent's <c>parse_utf8_codepoint</c> does, including how many bytes
/// an invalid sequence consumes, so that sanitised names match libtorrent's byte for byte.
/// </summary>
internal static class Utf8CodePoint
{
    private const int MaxCodePoint = 0x10FFFF;

    /// <summary>The code point (or -1 when invalid) and the number of bytes consumed (at least 1).</summary>
    public static (int CodePoint, int Length) Parse(ReadOnlySpan<byte> text)
    {
        if (text.IsEmpty) return (-1, 0);
        byte lead = text[0];
        int length = SequenceLength(lead);
        if (length == 1) return (lead, 1);
        if (length == 0) return (-1, 1);
        if (length > 4) return (-1, length); // may run past the end: the caller stops there
        if (length > text.Length) return (-1, text.Length);

        int codePoint = length switch
        {
            2 => lead & 0b0001_1111,
            3 => lead & 0b0000_1111,
            _ => lead & 0b0000_0111,
        };
        for (int i = 1; i < length; i++)
        {
            byte b = text[i];
            if (b is > 0b1011_1111 or < 0b1000_0000) return (-1, length);
            codePoint = (codePoint << 6) + (b & 0b11_1111);
        }
        bool overlong = length switch
        {
            2 => codePoint < 0x80,
            3 => codePoint < 0x800,
            _ => codePoint < 0x10000,
        };
        if (overlong || codePoint > MaxCodePoint || codePoint is >= 0xD800 and <= 0xDFFF) return (-1, length);
        return (codePoint, length);
    }

    private static int SequenceLength(byte lead)
    {
        if (lead < 0b1000_0000) return 1;
        if (lead >> 5 == 0b110) return 2;
        if (lead >> 4 == 0b1110) return 3;
        if (lead >> 3 == 0b1_1110) return 4;
        if (lead >> 2 == 0b11_1110) return 5; // invalid, but libtorrent skips this many bytes
        return 0;
    }
}
