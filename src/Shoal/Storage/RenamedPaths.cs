using Shoal.Metainfo;

namespace Shoal.Storage;

/// <summary>
/// A torrent's file paths with some files renamed (libtorrent's renamed files): file index → its path under the download
/// folder, '/'-separated, the torrent's folder included ("Name/sub/file.bin"), instead of the one the metainfo gives.
/// Pure; every renamed path is checked by the rules the storage writes by (<see cref="StoragePaths.Check"/>).
/// </summary>
internal static class RenamedPaths
{
    /// <summary>Longest renamed path accepted, in characters.</summary>
    public const int MaxPathLength = 4096;

    /// <summary>File <paramref name="index"/>'s path segments under the download folder, renamed or not.</summary>
    public static IReadOnlyList<string> Segments(Torrent torrent, int index, IReadOnlyDictionary<int, string>? renamed)
        => renamed is not null && renamed.TryGetValue(index, out string? path) ? Split(path) : torrent.Files[index].PathSegments;

    /// <summary>File <paramref name="index"/>'s path, '/'-separated, renamed or not.</summary>
    public static string PathOf(Torrent torrent, int index, IReadOnlyDictionary<int, string>? renamed)
        => renamed is not null && renamed.TryGetValue(index, out string? path) ? path : torrent.Files[index].Path;

    /// <summary>The segments of a '/'-separated path; throws <see cref="ArgumentException"/> naming what is wrong with it.</summary>
    public static string[] Split(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Length is 0 or > MaxPathLength) throw new ArgumentException($"a file's path is 1 to {MaxPathLength} characters", nameof(path));
        string[] segments = path.Split('/');
        foreach (string segment in segments)
        {
            if (StoragePaths.Check(segment) is { } why) throw new ArgumentException($"'{path}' cannot be a file's path: {why}", nameof(path));
        }
        return segments;
    }

    /// <summary>
    /// Checks a whole set of renames against the torrent: indices in range, no padding file, every path valid, no two files
    /// at one path, and no file where another needs a folder. Throws <see cref="ArgumentException"/> saying what clashes.
    /// </summary>
    public static void Validate(Torrent torrent, IReadOnlyDictionary<int, string> renamed)
    {
        foreach ((int index, string path) in renamed)
        {
            if ((uint)index >= (uint)torrent.Files.Count) throw new ArgumentOutOfRangeException(nameof(renamed), $"the torrent has no file {index}");
            if (torrent.Files[index].IsPadding) throw new ArgumentException($"file {index} is padding: it has no name to change", nameof(renamed));
            Split(path);
        }
        // Case-insensitive where the file system usually is, so a download stays valid when copied there.
        StringComparer compare = OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal;
        var files = new Dictionary<string, int>(compare);
        for (int i = 0; i < torrent.Files.Count; i++)
        {
            if (torrent.Files[i].IsPadding) continue;
            string path = PathOf(torrent, i, renamed);
            if (!files.TryAdd(path, i)) throw new ArgumentException($"files {files[path]} and {i} would both be '{path}'", nameof(renamed));
        }
        foreach ((string path, int index) in files)
        {
            for (int slash = path.IndexOf('/'); slash >= 0; slash = path.IndexOf('/', slash + 1))
            {
                if (files.TryGetValue(path[..slash], out int other))
                    throw new ArgumentException($"file {other} '{path[..slash]}' is where file {index} needs a folder", nameof(renamed));
            }
        }
    }
}
