using System.Globalization;
using System.Text;
using Shoal.Metainfo;

namespace Shoal.Discovery;

/// <summary>
/// Formats and parses BEP 14 announces: an HTTP-like "BT-SEARCH * HTTP/1.1" request with Host, Port, one or
/// more Infohash and an optional cookie header, sent over UDP multicast. Pure functions.
/// </summary>
public static class LsdMessage
{
    /// <summary>Largest datagram parsed; BEP 14 asks senders to stay under 1400 bytes.</summary>
    public const int MaxDatagramLength = 2048;

    /// <summary>Most info-hashes put in one announce by <see cref="Format"/>, which keeps it under 1400 bytes.</summary>
    public const int MaxHashesPerMessage = 20;

    /// <summary>Most info-hashes read from one received announce; the rest are ignored.</summary>
    public const int MaxHashesParsed = 32;

    /// <summary>Most header lines read; a datagram with more is ignored.</summary>
    public const int MaxHeaders = 64;

    /// <summary>Longest cookie accepted, in characters.</summary>
    public const int MaxCookieLength = 64;

    private const string RequestLine = "BT-SEARCH * HTTP/1.1";

    /// <summary>
    /// Formats one announce. <paramref name="host"/> is the multicast group as "239.192.152.143:6771" or
    /// "[ff15::efc0:988f]:6771".
    /// </summary>
    /// <exception cref="ArgumentException">A bad port, no hashes or more than <see cref="MaxHashesPerMessage"/>,
    /// or a host or cookie with characters that would break the header syntax.</exception>
    public static byte[] Format(string host, int port, IReadOnlyList<InfoHash> infoHashes, string? cookie)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(infoHashes);
        ArgumentOutOfRangeException.ThrowIfLessThan(port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        if (infoHashes.Count is 0 or > MaxHashesPerMessage)
            throw new ArgumentException($"an announce carries 1..{MaxHashesPerMessage} info-hashes", nameof(infoHashes));
        if (!IsHeaderValue(host, 128)) throw new ArgumentException("host must be printable ASCII", nameof(host));
        if (cookie is not null && (cookie.Length == 0 || !IsHeaderValue(cookie, MaxCookieLength)))
            throw new ArgumentException($"cookie must be 1..{MaxCookieLength} printable ASCII characters", nameof(cookie));

        var text = new StringBuilder(128 + (infoHashes.Count * 52));
        text.Append(RequestLine).Append("\r\n");
        text.Append("Host: ").Append(host).Append("\r\n");
        text.Append("Port: ").Append(port.ToString(CultureInfo.InvariantCulture)).Append("\r\n");
        foreach (InfoHash hash in infoHashes) text.Append("Infohash: ").Append(hash.ToHex()).Append("\r\n");
        if (cookie is not null) text.Append("cookie: ").Append(cookie).Append("\r\n");
        text.Append("\r\n\r\n");
        return Encoding.ASCII.GetBytes(text.ToString());
    }

    /// <summary>
    /// Parses a received datagram; null when it is not a usable announce (wrong request line, no valid port,
    /// no valid info-hash, too long, too many headers). Unknown headers and invalid Infohash values are
    /// skipped. Never throws.
    /// </summary>
    public static LsdAnnounce? Parse(ReadOnlySpan<byte> datagram)
    {
        if (datagram.Length == 0 || datagram.Length > MaxDatagramLength) return null;
        ReadOnlySpan<byte> rest = datagram;
        if (!NextLine(ref rest, out ReadOnlySpan<byte> first) || !first.SequenceEqual("BT-SEARCH * HTTP/1.1"u8)) return null;

        int port = 0;
        string? cookie = null;
        List<InfoHash>? hashes = null;
        int headers = 0;
        while (NextLine(ref rest, out ReadOnlySpan<byte> line))
        {
            if (line.IsEmpty) break;
            if (++headers > MaxHeaders) return null;
            int colon = line.IndexOf((byte)':');
            if (colon <= 0) continue;
            ReadOnlySpan<byte> name = Trim(line[..colon]);
            ReadOnlySpan<byte> value = Trim(line[(colon + 1)..]);
            if (Ascii.EqualsIgnoreCase(name, "Port"u8))
            {
                if (port == 0 && TryParsePort(value, out int parsed)) port = parsed;
            }
            else if (Ascii.EqualsIgnoreCase(name, "Infohash"u8))
            {
                hashes ??= [];
                if (hashes.Count < MaxHashesParsed && TryParseHex(value, out InfoHash hash) && !hashes.Contains(hash)) hashes.Add(hash);
            }
            else if (Ascii.EqualsIgnoreCase(name, "cookie"u8))
            {
                if (cookie is null && value.Length is > 0 and <= MaxCookieLength) cookie = Encoding.Latin1.GetString(value);
            }
        }
        if (port == 0 || hashes is null || hashes.Count == 0) return null;
        return new LsdAnnounce(port, hashes, cookie);
    }

    /// <summary>Takes the next line (ended by LF, an optional CR before it dropped); false at the end of input.</summary>
    private static bool NextLine(ref ReadOnlySpan<byte> rest, out ReadOnlySpan<byte> line)
    {
        if (rest.IsEmpty)
        {
            line = default;
            return false;
        }
        int lf = rest.IndexOf((byte)'\n');
        if (lf < 0)
        {
            line = rest;
            rest = default;
        }
        else
        {
            line = rest[..lf];
            rest = rest[(lf + 1)..];
        }
        if (!line.IsEmpty && line[^1] == (byte)'\r') line = line[..^1];
        return true;
    }

    private static ReadOnlySpan<byte> Trim(ReadOnlySpan<byte> value) => value.Trim(" \t"u8);

    private static bool TryParsePort(ReadOnlySpan<byte> value, out int port)
    {
        port = 0;
        if (value.Length is 0 or > 5) return false;
        foreach (byte b in value)
        {
            if (b is < (byte)'0' or > (byte)'9') return false;
            port = (port * 10) + (b - '0');
        }
        if (port is >= 1 and <= 65535) return true;
        port = 0;
        return false;
    }

    private static bool TryParseHex(ReadOnlySpan<byte> value, out InfoHash hash)
    {
        hash = default;
        if (value.Length != InfoHash.Length * 2) return false;
        Span<byte> bytes = stackalloc byte[InfoHash.Length];
        for (int i = 0; i < bytes.Length; i++)
        {
            int hi = HexValue(value[2 * i]), lo = HexValue(value[(2 * i) + 1]);
            if (hi < 0 || lo < 0) return false;
            bytes[i] = (byte)((hi << 4) | lo);
        }
        hash = new InfoHash(bytes);
        return true;
    }

    private static int HexValue(byte c) => c switch
    {
        >= (byte)'0' and <= (byte)'9' => c - '0',
        >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
        _ => -1,
    };

    private static bool IsHeaderValue(string value, int maxLength)
    {
        if (value.Length > maxLength) return false;
        foreach (char c in value)
        {
            if (c is < '!' or > '~') return false;
        }
        return true;
    }
}
