namespace Shoal.Storage;

/// <summary>
/// Turns a torrent's path segments into a full path under the download folder, refusing anything that could
/// escape it or that some file system would interpret specially. The metainfo parser validates too; this is
/// the last line of defence before a file is created.
/// </summary>
internal static class StoragePaths
{
    private static readonly string[] ReservedDeviceNames =
    [
        "CON", "PRN", "AUX", "NUL",
        "COM0", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
        "LPT0", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
        "CONIN$", "CONOUT$",
    ];

    /// <summary>The download folder as a full path ending with a separator (so a prefix test cannot match a sibling like "dl-evil").</summary>
    public static string NormalizeRoot(string downloadDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(downloadDirectory);
        string root = Path.GetFullPath(downloadDirectory);
        return Path.EndsInDirectorySeparator(root) ? root : root + Path.DirectorySeparatorChar;
    }

    /// <summary>
    /// Returns the full path of a file, or throws <see cref="StorageException"/>: of kind
    /// <see cref="StorageErrorKind.UnsafePath"/> for a path that could escape the folder, of kind
    /// <see cref="StorageErrorKind.NameTooLong"/> for a name or path longer than <paramref name="limits"/> allow.
    /// </summary>
    public static string Resolve(string root, IReadOnlyList<string> segments, FileSystemLimits? limits = null)
    {
        if (segments.Count == 0) throw Unsafe(root, "(empty)", "the path has no segments");
        var parts = new string[segments.Count + 1];
        parts[0] = root;
        for (int i = 0; i < segments.Count; i++)
        {
            string s = segments[i];
            string? why = Check(s);
            if (why is not null) throw Unsafe(root, string.Join('/', segments), why);
            parts[i + 1] = s;
        }
        string full = Path.GetFullPath(Path.Combine(parts));
        if (limits is { } max) CheckLength(full, segments, max);
        StringComparison cmp = OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        if (!full.StartsWith(root, cmp) || full.Length == root.Length)
            throw Unsafe(root, string.Join('/', segments), "it resolves outside the download folder");
        return full;
    }

    /// <summary>Why a segment is unsafe, or null when it is fine.</summary>
    public static string? Check(string? s)
    {
        if (string.IsNullOrEmpty(s)) return "a segment is empty";
        if (s == "." || s == "..") return $"segment '{s}' refers to a folder";
        foreach (char c in s)
        {
            if (c == '\0') return "a segment contains NUL";
            if (c == '/' || c == '\\') return $"segment '{s}' contains a path separator";
            if (c < 0x20) return $"segment '{s}' contains a control character";
        }
        if (Path.IsPathRooted(s)) return $"segment '{s}' is rooted";
        if (OperatingSystem.IsWindows())
        {
            if (s.AsSpan().IndexOfAny("<>:\"|?*") >= 0) return $"segment '{s}' contains a character Windows forbids";
            if (s[^1] is '.' or ' ') return $"segment '{s}' ends with a dot or space";
        }
        // Device names are refused everywhere, so a download made here can be copied to Windows safely.
        ReadOnlySpan<char> stem = s.AsSpan();
        int dot = stem.IndexOf('.');
        if (dot >= 0) stem = stem[..dot];
        stem = stem.TrimEnd(' ');
        foreach (string r in ReservedDeviceNames)
            if (stem.Equals(r, StringComparison.OrdinalIgnoreCase)) return $"segment '{s}' is a reserved device name";
        return null;
    }

    private static void CheckLength(string full, IReadOnlyList<string> segments, FileSystemLimits limits)
    {
        foreach (string segment in segments)
        {
            int bytes = System.Text.Encoding.UTF8.GetByteCount(segment);
            if (bytes > limits.MaxNameBytes)
            {
                throw new StorageException(StorageErrorKind.NameTooLong, full,
                    $"Cannot store '{Shorten(segment)}': the name is {bytes} bytes, the file system allows {limits.MaxNameBytes}");
            }
        }
        int pathBytes = System.Text.Encoding.UTF8.GetByteCount(full);
        if (pathBytes >= limits.MaxPathBytes) // the limit counts the terminating NUL
        {
            throw new StorageException(StorageErrorKind.NameTooLong, full,
                $"Cannot store '{Shorten(full)}': the path is {pathBytes} bytes, the file system allows {limits.MaxPathBytes - 1}");
        }
    }

    /// <summary>A long name or path cut in the middle, so an error stays one readable line.</summary>
    private static string Shorten(string text) => text.Length <= 100 ? text : text[..60] + "..." + text[^37..];

    private static StorageException Unsafe(string root, string path, string why) =>
        new(StorageErrorKind.UnsafePath, null, $"Refusing unsafe path '{path}' under '{root}': {why}");
}
