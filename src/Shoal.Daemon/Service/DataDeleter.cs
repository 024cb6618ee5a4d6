using Shoal.Metainfo;

namespace Shoal.Daemon.Service;

/// <summary>
/// Deletes a removed torrent's data: its files, the folders it made that are left empty, and its parts folder.
/// Only the torrent's own paths under its save path are touched, and only inside the daemon's folders; a file
/// the torrent does not name is never deleted (a folder holding one stays).
/// </summary>
internal static class DataDeleter
{
    /// <summary>Deletes what it can; returns the problems met (empty when everything went).</summary>
    public static IReadOnlyList<string> Delete(Torrent? torrent, InfoHash infoHash, string savePath, FolderPolicy folders)
    {
        var problems = new List<string>();
        string root = Path.GetFullPath(savePath);
        if (!folders.Contains(root))
        {
            problems.Add($"{root} is outside the daemon's folders: nothing deleted");
            return problems;
        }
        TryDelete(Path.Combine(root, "." + infoHash.ToHex() + ".parts"), directory: true, problems);
        if (torrent is null) return problems;
        string rootWithSeparator = Path.EndsInDirectorySeparator(root) ? root : root + Path.DirectorySeparatorChar;
        var folders_ = new HashSet<string>(StringComparer.Ordinal);
        foreach (TorrentFile file in torrent.Files)
        {
            if (file.IsPadding) continue;
            // The segments include the torrent's name; the metainfo parser already refused '..', separators and NUL.
            string full = Path.GetFullPath(Path.Combine([root, .. file.PathSegments]));
            if (!full.StartsWith(rootWithSeparator, StringComparison.Ordinal)) continue;
            TryDelete(full, directory: false, problems);
            for (string? dir = Path.GetDirectoryName(full); dir is not null && dir.Length > root.Length; dir = Path.GetDirectoryName(dir)) folders_.Add(dir);
        }
        // Deepest first, and only folders left empty: a user's own file next to the torrent's keeps its folder.
        foreach (string dir in folders_.OrderByDescending(d => d.Length))
        {
            try
            {
                if (Directory.Exists(dir) && !Directory.EnumerateFileSystemEntries(dir).Any()) Directory.Delete(dir);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                problems.Add($"{dir}: {ex.Message}");
            }
        }
        return problems;
    }

    private static void TryDelete(string path, bool directory, List<string> problems)
    {
        try
        {
            if (directory)
            {
                if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
            }
            else if (File.Exists(path))
            {
                File.Delete(path);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            problems.Add($"{path}: {ex.Message}");
        }
    }
}
