using Shoal.Metainfo;

namespace Shoal.Daemon.Service;

/// <summary>
/// Moves a stopped torrent's data to another folder: its files (by the torrent's own paths) and its partial-pieces
/// folder. Nothing is overwritten: a file already at the destination stops the move, and whatever moved goes back,
/// so a failed move leaves the data where it was. Both folders must lie inside the daemon's folders.
/// </summary>
internal static class DataMover
{
    /// <summary>Moves the data; returns why it failed (everything is back in place then), or null.</summary>
    public static string? Move(Torrent? torrent, InfoHash infoHash, string fromFolder, string toFolder, FolderPolicy folders)
    {
        string from = Path.GetFullPath(fromFolder);
        string to = Path.GetFullPath(toFolder);
        if (!folders.Contains(from) || !folders.Contains(to)) return $"moving {infoHash.ToHex()}: both folders must be inside the daemon's folders";
        var pairs = new List<(string From, string To)>();
        foreach (string relative in Paths(torrent, infoHash, from))
        {
            string source = Path.Combine(from, relative);
            if (File.Exists(source)) pairs.Add((source, Path.Combine(to, relative)));
        }
        var done = new List<(string From, string To)>(pairs.Count);
        try
        {
            foreach ((string source, string destination) in pairs)
            {
                if (File.Exists(destination) || Directory.Exists(destination))
                    throw new IOException($"{destination} already exists: it is not overwritten");
                Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
                // A rename on one file system; a copy and delete across file systems.
                File.Move(source, destination, overwrite: false);
                done.Add((source, destination));
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            string? stuck = null;
            for (int i = done.Count - 1; i >= 0; i--)
            {
                try
                {
                    File.Move(done[i].To, done[i].From, overwrite: false);
                }
                catch (Exception back) when (back is IOException or UnauthorizedAccessException)
                {
                    stuck ??= $" ({done[i].To} could not be moved back: {back.Message})";
                }
            }
            RemoveEmptyFolders(to, done.Select(d => d.To));
            return $"moving the data to {to} failed, nothing was moved: {ex.Message}{stuck}";
        }
        RemoveEmptyFolders(from, done.Select(d => d.From));
        return null;
    }

    /// <summary>The torrent's files relative to its folder, and the files of its partial-pieces folder.</summary>
    private static List<string> Paths(Torrent? torrent, InfoHash infoHash, string from)
    {
        var paths = new List<string>();
        if (torrent is not null)
        {
            // The metainfo parser already refused '..', separators and NUL in the segments.
            paths.AddRange(torrent.Files.Where(f => !f.IsPadding).Select(f => Path.Combine([.. f.PathSegments])));
        }
        string parts = Path.Combine(from, "." + infoHash.ToHex() + ".parts");
        if (Directory.Exists(parts))
        {
            paths.AddRange(Directory.EnumerateFiles(parts, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(from, f)));
        }
        return paths;
    }

    private static void RemoveEmptyFolders(string root, IEnumerable<string> files)
    {
        var folders = new HashSet<string>(StringComparer.Ordinal);
        foreach (string file in files)
        {
            for (string? dir = Path.GetDirectoryName(file); dir is not null && dir.Length > root.Length; dir = Path.GetDirectoryName(dir)) folders.Add(dir);
        }
        foreach (string dir in folders.OrderByDescending(d => d.Length))
        {
            try
            {
                if (Directory.Exists(dir) && !Directory.EnumerateFileSystemEntries(dir).Any()) Directory.Delete(dir);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // A folder that cannot be removed stays; the data has moved.
            }
        }
    }
}
