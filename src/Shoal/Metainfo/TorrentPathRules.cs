namespace Shoal.Metainfo;

/// <summary>
/// Checks that a path segment from a torrent is safe to create on any supported OS: a hostile torrent must
/// not escape the download folder ("..", separators, drive letters) or hit Windows device names.
/// </summary>
internal static class TorrentPathRules
{
    /// <summary>Most segments in one file's 'path' list.</summary>
    public const int MaxPathDepth = 64;

    /// <summary>Returns null when <paramref name="segment"/> is acceptable, else why not.</summary>
    public static string? Check(string segment)
    {
        if (segment.Length == 0) return "is empty";
        if (segment is "." or "..") return $"is '{segment}'";
        foreach (char c in segment)
        {
            if (c is '/' or '\\') return "contains a path separator";
            if (c == '\0') return "contains a NUL character";
        }
        if (segment.Length >= 2 && segment[1] == ':' && char.IsAsciiLetter(segment[0])) return "starts with a drive letter";
        if (IsWindowsDeviceName(segment)) return "is a reserved Windows device name";
        return null;
    }

    /// <summary>Throws <see cref="MetainfoException"/> when <paramref name="segment"/> is not acceptable.</summary>
    public static void Validate(string segment, string what)
    {
        string? problem = Check(segment);
        if (problem is not null) throw new MetainfoException($"{what} '{Printable(segment)}' {problem}");
    }

    private static bool IsWindowsDeviceName(string segment)
    {
        // Windows treats "CON", "con.txt" and "CON .log" alike: the part before the first dot, trailing spaces ignored.
        int dot = segment.IndexOf('.');
        ReadOnlySpan<char> stem = (dot < 0 ? segment : segment[..dot]).AsSpan().TrimEnd(' ');
        if (stem.Length == 3)
        {
            return stem.Equals("CON", StringComparison.OrdinalIgnoreCase) || stem.Equals("PRN", StringComparison.OrdinalIgnoreCase)
                || stem.Equals("AUX", StringComparison.OrdinalIgnoreCase) || stem.Equals("NUL", StringComparison.OrdinalIgnoreCase);
        }
        if (stem.Length == 4 && stem[3] is >= '1' and <= '9')
        {
            ReadOnlySpan<char> prefix = stem[..3];
            return prefix.Equals("COM", StringComparison.OrdinalIgnoreCase) || prefix.Equals("LPT", StringComparison.OrdinalIgnoreCase);
        }
        return false;
    }

    internal static string Printable(string text)
    {
        var chars = new System.Text.StringBuilder(Math.Min(text.Length, 80));
        foreach (char c in text.Length > 80 ? text[..80] : text)
        {
            chars.Append(char.IsControl(c) ? '?' : c);
        }
        return text.Length > 80 ? chars + "..." : chars.ToString();
    }
}
