using System.Buffers;

namespace Shoal.Bencoding;

/// <summary>Entry points for decoding and encoding bencoded data (BEP 3).</summary>
public static class Bencode
{
    /// <summary>
    /// Decodes exactly one value spanning all of <paramref name="data"/>. Strict: dictionary keys sorted and
    /// unique, no leading zeros, no "-0", lengths within the input, integers within 64 bits, no trailing bytes.
    /// Decoded strings alias <paramref name="data"/>; keep it unchanged while the values are in use.
    /// </summary>
    /// <exception cref="BencodeException">The input is malformed, non-canonical or over a limit.</exception>
    public static BValue Decode(ReadOnlyMemory<byte> data, BencodeLimits? limits = null) =>
        BencodeParser.Parse(data, limits ?? BencodeLimits.Default, wholeInput: true, out _);

    /// <summary>
    /// Decodes one value from the start of <paramref name="data"/> and reports how many bytes it used; the rest
    /// is left to the caller (a BEP 9 ut_metadata data message is a dictionary followed by raw bytes).
    /// </summary>
    /// <exception cref="BencodeException">The value is malformed, non-canonical or over a limit.</exception>
    public static BValue DecodePrefix(ReadOnlyMemory<byte> data, out int consumed, BencodeLimits? limits = null) =>
        BencodeParser.Parse(data, limits ?? BencodeLimits.Default, wholeInput: false, out consumed);

    /// <summary>
    /// Decodes the first value of <paramref name="data"/> the way libtorrent reads .torrent files, and reports how
    /// many bytes it used (trailing bytes are the caller's to ignore). Dictionary keys may come in any order and may
    /// repeat (the first value wins); leading zeros, <c>-0</c> and integers of up to 20 digits that overflow 64 bits
    /// (read as 0) are accepted. Anything else malformed still throws. Each value's <see cref="BValue.IsCanonical"/>
    /// says whether it (and everything inside it) was canonical. Decoded strings alias <paramref name="data"/>.
    /// </summary>
    /// <exception cref="BencodeException">The value is malformed or over a limit.</exception>
    public static BValue DecodeLenient(ReadOnlyMemory<byte> data, out int consumed, BencodeLimits? limits = null) =>
        BencodeParser.Parse(data, limits ?? BencodeLimits.Default, wholeInput: false, lenient: true, out consumed);

    /// <summary>Encodes a value in canonical form (dictionary keys in raw byte order).</summary>
    public static byte[] Encode(BValue value)
    {
        var buffer = new ArrayBufferWriter<byte>();
        Encode(value, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Encodes a value in canonical form into <paramref name="output"/>.</summary>
    public static void Encode(BValue value, IBufferWriter<byte> output) => new BencodeWriter(output).WriteValue(value);
}
