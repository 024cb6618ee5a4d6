using System.Text;

namespace Shoal.Metainfo;

/// <summary>
/// Turns one path element from a torrent (raw bytes: names are not guaranteed to be UTF-8) into a file or folder
/// name that is safe to create, the way libtorrent's <c>sanitize_append_path_element</c> does, so Shoal opens
/// the same torrents and names their files the same way.
/// </summary>
/// <remarks>
/// <para>libtorrent's rules, kept exactly: "." is dropped; ".." (and anything that is only one or two dots once
/// filtered) is dropped; an empty element becomes "_"; '/' and '\' are removed, as are the bidirectional
/// override marks U+202A-U+202E, U+200E and U+200F (they disguise extensions); every invalid UTF-8 sequence
/// (overlong, surrogate, truncated, over U+10FFFF) and every control character below U+0020 becomes one '_';
/// an element longer than 240 bytes is cut there, keeping an extension found in its last 10 bytes, so a name
/// never exceeds the 255-byte limit of common file systems.</para>
/// <para>Shoal's additions, all stricter: DEL (U+007F) and the C1 controls (U+0080-U+009F) become '_' too, the
/// bidirectional isolates U+2066-U+2069 are removed like the overrides, and a Windows device name (CON, NUL.txt,
/// COM1...) gets a leading '_' on every OS, so a download made here can be copied to Windows. On Windows the
/// characters Windows forbids become '_' and trailing dots and spaces are removed, as libtorrent does there.</para>
/// </remarks>
internal static class PathSanitizer
{
    /// <summary>Bytes after which an element is cut (libtorrent's constant; 255 minus room for an extension).</summary>
    public const int CutAfterBytes = 240;

    /// <summary>How far from the end of an over-long element an extension's dot is looked for.</summary>
    private const int ExtensionSearchBytes = 10;

    private static readonly string[] DeviceNames =
    [
        "CON", "PRN", "AUX", "NUL", "CLOCK$", "CONIN$", "CONOUT$",
        "COM0", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
        "LPT0", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
    ];

    /// <summary>
    /// The sanitised element, or null when it is dropped entirely ("." and ".." and what filters down to them).
    /// <paramref name="changed"/> says whether the result differs from the input.
    /// </summary>
    public static string? Sanitize(ReadOnlySpan<byte> element, out bool changed)
    {
        changed = true;
        if (element.Length == 1 && element[0] == (byte)'.') return null;
        if (element.IsEmpty) return "_";
        if (IsPlainAscii(element))
        {
            // The common case, no rule applies: printable ASCII, no separator, short, not only dots, no device name.
            string plain = Encoding.ASCII.GetString(element);
            if (!IsDeviceName(plain))
            {
                changed = false;
                return plain;
            }
        }

        var output = new List<byte>(Math.Min(element.Length, CutAfterBytes + ExtensionSearchBytes));
        int added = 0;
        int dots = 0;
        bool foundExtension = false;
        bool windows = OperatingSystem.IsWindows();
        int i = 0;
        while (i < element.Length)
        {
            (int codePoint, int length) = Utf8CodePoint.Parse(element[i..]);
            if (codePoint >= 0 && IsRemoved(codePoint))
            {
                i += length;
                continue;
            }
            if (codePoint < 0 || IsReplaced(codePoint, windows))
            {
                output.Add((byte)'_');
                added++;
                i += length;
                continue;
            }
            for (int k = i; k < i + length; k++) output.Add(element[k]);
            if (codePoint == '.') dots++;
            added += length;
            if (added >= CutAfterBytes && !foundExtension)
            {
                int dot = -1;
                for (int j = element.Length - 1; j > Math.Max(element.Length - ExtensionSearchBytes, i); j--)
                {
                    if (element[j] != (byte)'.') continue;
                    dot = j;
                    break;
                }
                if (dot == -1) break; // no extension to keep: the element ends here
                foundExtension = true;
                i = dot; // go on with the extension itself
                continue;
            }
            i += length;
        }

        if (added == dots && added <= 2) return null; // "..", or a name that filtered down to dots
        if (windows)
        {
            while (output.Count > 0 && output[^1] is (byte)'.' or (byte)' ') output.RemoveAt(output.Count - 1);
            if (output.Count == 0) return null;
        }
        string text = Encoding.UTF8.GetString([.. output]);
        if (IsDeviceName(text)) text = "_" + text;
        changed = !element.SequenceEqual(Encoding.UTF8.GetBytes(text));
        return text;
    }

    /// <summary>Sanitises an element given as text (for names Shoal itself creates or a caller passes).</summary>
    public static string? Sanitize(string element, out bool changed) => Sanitize(Encoding.UTF8.GetBytes(element), out changed);

    private static bool IsPlainAscii(ReadOnlySpan<byte> element)
    {
        if (element.Length >= CutAfterBytes) return false;
        bool onlyDots = true;
        foreach (byte b in element)
        {
            if (b is < 0x20 or >= 0x7F or (byte)'/' or (byte)'\\') return false;
            if (OperatingSystem.IsWindows() && b is (byte)'?' or (byte)'<' or (byte)'>' or (byte)'"' or (byte)'|' or (byte)'*' or (byte)':') return false;
            onlyDots &= b == (byte)'.';
        }
        return !onlyDots && !(OperatingSystem.IsWindows() && element[^1] is (byte)'.' or (byte)' ');
    }

    private static bool IsRemoved(int codePoint) =>
        codePoint is '/' or '\\' or 0x200E or 0x200F or (>= 0x202A and <= 0x202E) or (>= 0x2066 and <= 0x2069);

    private static bool IsReplaced(int codePoint, bool windows) =>
        codePoint < 0x20 || codePoint is >= 0x7F and <= 0x9F
        || (windows && codePoint is '?' or '<' or '>' or '"' or '|' or '*' or ':');

    private static bool IsDeviceName(string segment)
    {
        // Windows treats "CON", "con.txt" and "CON .log" alike: the part before the first dot, trailing spaces ignored.
        int dot = segment.IndexOf('.');
        ReadOnlySpan<char> stem = (dot < 0 ? segment : segment[..dot]).AsSpan().TrimEnd(' ');
        foreach (string name in DeviceNames)
        {
            if (stem.Equals(name, StringComparison.OrdinalIgnoreCase)) return true;
        }
        return false;
    }
}
