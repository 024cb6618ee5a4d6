using System.Text;

namespace Shoal.Trackers;

/// <summary>URL rules of HTTP trackers: raw-byte percent-encoding (BEP 3) and the scrape URL (BEP 48).</summary>
public static class TrackerUrl
{
    /// <summary>
    /// The scrape URL of an HTTP announce URL: the last path segment must start with <c>announce</c>, which is
    /// replaced by <c>scrape</c> (<c>/x/announce.php?k=v</c> becomes <c>/x/scrape.php?k=v</c>). Null when the
    /// tracker has no scrape URL by that rule.
    /// </summary>
    public static Uri? TryGetScrapeUrl(Uri announceUrl)
    {
        ArgumentNullException.ThrowIfNull(announceUrl);
        if (!announceUrl.IsAbsoluteUri) return null;
        string path = announceUrl.AbsolutePath;
        int slash = path.LastIndexOf('/');
        if (slash < 0 || !path.AsSpan(slash + 1).StartsWith("announce", StringComparison.Ordinal)) return null;
        var builder = new UriBuilder(announceUrl)
        {
            Path = string.Concat(path.AsSpan(0, slash + 1), "scrape", path.AsSpan(slash + 1 + "announce".Length)),
        };
        return builder.Uri;
    }

    /// <summary>
    /// Appends <paramref name="bytes"/> percent-encoded: RFC 3986 unreserved characters as they are, every other
    /// byte as %XX. Info-hashes and peer ids are raw bytes, not text, so no character set is involved.
    /// </summary>
    public static void AppendPercentEncoded(StringBuilder builder, ReadOnlySpan<byte> bytes)
    {
        ArgumentNullException.ThrowIfNull(builder);
        const string Hex = "0123456789ABCDEF";
        foreach (byte b in bytes)
        {
            if (IsUnreserved(b))
            {
                builder.Append((char)b);
            }
            else
            {
                builder.Append('%').Append(Hex[b >> 4]).Append(Hex[b & 15]);
            }
        }
    }

    /// <summary>Percent-encodes raw bytes (see <see cref="AppendPercentEncoded"/>).</summary>
    public static string PercentEncode(ReadOnlySpan<byte> bytes)
    {
        var builder = new StringBuilder(bytes.Length * 3);
        AppendPercentEncoded(builder, bytes);
        return builder.ToString();
    }

    /// <summary>
    /// Decodes a percent-encoded query value into raw bytes (<c>+</c> means a space). Returns the number of bytes
    /// written, or -1 when the value is malformed (a bad escape) or does not fit.
    /// </summary>
    public static int TryPercentDecode(ReadOnlySpan<char> value, Span<byte> destination)
    {
        int n = 0;
        for (int i = 0; i < value.Length; i++)
        {
            if (n >= destination.Length) return -1;
            char c = value[i];
            if (c == '%')
            {
                if (i + 2 >= value.Length) return -1;
                int hi = HexValue(value[i + 1]), lo = HexValue(value[i + 2]);
                if (hi < 0 || lo < 0) return -1;
                destination[n++] = (byte)((hi << 4) | lo);
                i += 2;
            }
            else if (c == '+')
            {
                destination[n++] = (byte)' ';
            }
            else if (c > 0x7F)
            {
                return -1;
            }
            else
            {
                destination[n++] = (byte)c;
            }
        }
        return n;
    }

    private static bool IsUnreserved(byte b) =>
        b is (>= (byte)'a' and <= (byte)'z') or (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'0' and <= (byte)'9')
            or (byte)'-' or (byte)'.' or (byte)'_' or (byte)'~';

    private static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };
}
