using System.Globalization;

namespace Shoal.Daemon.Http;

/// <summary>
/// The byte range of a request to a file of a given length (RFC 9110 section 14): one range, "bytes=FIRST-LAST",
/// "bytes=FIRST-" or "bytes=-SUFFIX". Several ranges are served as the first (players ask for one); a syntactically
/// bad header is ignored (the whole file is served), a range past the end is unsatisfiable (416).
/// </summary>
/// <param name="Start">First byte.</param>
/// <param name="End">Last byte, inclusive.</param>
internal readonly record struct ByteRange(long Start, long End)
{
    /// <summary>Bytes in the range.</summary>
    public long Length => End - Start + 1;

    /// <summary>What a Range header asks of a file of <paramref name="length"/> bytes.</summary>
    /// <returns>The whole file (no header, or one that does not parse), a range, or null when unsatisfiable.</returns>
    public static (ByteRange? Range, bool Partial) Parse(string? header, long length)
    {
        ByteRange whole = new(0, length - 1);
        if (string.IsNullOrWhiteSpace(header) || length <= 0) return (length > 0 ? whole : null, false);
        string text = header.Trim();
        if (!text.StartsWith("bytes=", StringComparison.OrdinalIgnoreCase)) return (whole, false);
        string first = text[6..].Split(',')[0].Trim();
        int dash = first.IndexOf('-', StringComparison.Ordinal);
        if (dash < 0) return (whole, false);
        string from = first[..dash].Trim();
        string to = first[(dash + 1)..].Trim();
        if (from.Length == 0)
        {
            // A suffix: the last N bytes.
            if (!long.TryParse(to, NumberStyles.None, CultureInfo.InvariantCulture, out long suffix)) return (whole, false);
            if (suffix == 0) return (null, true);
            return (new ByteRange(Math.Max(0, length - suffix), length - 1), true);
        }
        if (!long.TryParse(from, NumberStyles.None, CultureInfo.InvariantCulture, out long start)) return (whole, false);
        long end = length - 1;
        if (to.Length > 0)
        {
            if (!long.TryParse(to, NumberStyles.None, CultureInfo.InvariantCulture, out end) || end < start) return (whole, false);
            end = Math.Min(end, length - 1);
        }
        if (start >= length) return (null, true);
        return (new ByteRange(start, end), true);
    }
}
