using Shoal.Metainfo;

namespace Shoal.Storage;

/// <summary>
/// A stopped torrent's data on disk as a whole: deleting it, and moving it to another folder. Only the torrent's own
/// paths are touched (its files, by the same rules the storage writes them, the folders it made on their way, and its
/// partial-pieces folder <c>.HASH.parts</c>): a file the torrent does not name is never deleted, moved or overwritten,
/// and a folder that still holds one stays. The torrent must not be running (its files closed), as after
/// <see cref="Swarm.TorrentHandle.RemoveAsync(bool)"/> or during <see cref="Swarm.TorrentHandle.MoveStorageAsync"/>,
/// which use these; an embedder that keeps torrents out of the session (a daemon's stopped ones) calls them itself.
/// </summary>
public static class TorrentData
{
    /// <summary>
    /// Deletes <paramref name="torrent"/>'s files under <paramref name="downloadDirectory"/>, the folders they leave
    /// empty (up to, not including, the download folder) and its partial-pieces folder. With a null
    /// <paramref name="torrent"/> (a magnet link whose metadata never came) only the partial-pieces folder goes.
    /// Never throws for one path: returns the problems met, in words (empty when everything went).
    /// </summary>
    /// <param name="torrent">The torrent's metainfo; null when it is unknown.</param>
    /// <param name="infoHash">Its info-hash (which names its partial-pieces folder).</param>
    /// <param name="downloadDirectory">The folder its data lives in.</param>
    /// <param name="renamedFiles">Its renamed files (<see cref="Swarm.TorrentOptions.RenamedFiles"/>), found at their new paths.</param>
    public static IReadOnlyList<string> Delete(Torrent? torrent, InfoHash infoHash, string downloadDirectory, IReadOnlyDictionary<int, string>? renamedFiles = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(downloadDirectory);
        var problems = new List<string>();
        string root = StoragePaths.NormalizeRoot(downloadDirectory);
        Try(PartsDirectory(root, infoHash), path => { if (Directory.Exists(path)) Directory.Delete(path, recursive: true); }, problems);
        if (torrent is null) return problems;
        var created = new List<string>();
        foreach (string file in Files(torrent, root, renamedFiles))
        {
            Try(file, path =>
            {
                // A link the torrent made (BEP 47 'l') is deleted as a link, nothing it points to is followed; an absent
                // file (never downloaded, skipped) is nothing to delete.
                if (Directory.Exists(Path.GetDirectoryName(path))) File.Delete(path);
            }, problems);
            created.Add(file);
        }
        RemoveEmptyFolders(root, created, problems);
        return problems;
    }

    /// <summary>
    /// Moves <paramref name="torrent"/>'s files and its partial-pieces folder from <paramref name="fromDirectory"/> to
    /// <paramref name="toDirectory"/> (a rename on one file system; a copy and delete across file systems, keeping each
    /// file's last-write time so the torrent's resume data still vouches for it), then removes the folders the move
    /// left empty. Nothing is overwritten: a file already at the destination stops the move before anything moved
    /// (every destination is looked at first) or, when it appears meanwhile, midway; then whatever moved goes back and
    /// <see cref="IOException"/> says why, naming the path, so a failed move leaves the data where it was.
    /// Files of the torrent that are not there (never downloaded, skipped) are nothing to move.
    /// </summary>
    /// <param name="torrent">The torrent's metainfo; null when it is unknown (only partial pieces move then).</param>
    /// <param name="infoHash">Its info-hash (which names its partial-pieces folder).</param>
    /// <param name="fromDirectory">The folder its data lives in now.</param>
    /// <param name="toDirectory">The folder it moves to (created when missing).</param>
    /// <param name="renamedFiles">Its renamed files (<see cref="Swarm.TorrentOptions.RenamedFiles"/>), which keep their new paths.</param>
    public static void Move(Torrent? torrent, InfoHash infoHash, string fromDirectory, string toDirectory, IReadOnlyDictionary<int, string>? renamedFiles = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(fromDirectory);
        ArgumentException.ThrowIfNullOrEmpty(toDirectory);
        string from = StoragePaths.NormalizeRoot(fromDirectory);
        string to = StoragePaths.NormalizeRoot(toDirectory);
        if (string.Equals(from, to, StringComparison.Ordinal)) return;
        if (to.StartsWith(from, StringComparison.Ordinal) && torrent is not null && Files(torrent, from, renamedFiles).Any(f => to.StartsWith(f + Path.DirectorySeparatorChar, StringComparison.Ordinal)))
            throw new IOException($"{toDirectory} lies inside the torrent's own data: it cannot move there");
        var moves = new List<(string From, string To)>();
        if (torrent is not null)
        {
            foreach (string source in Files(torrent, from, renamedFiles))
            {
                if (File.Exists(source)) moves.Add((source, to + Path.GetRelativePath(from, source)));
            }
        }
        string parts = PartsDirectory(from, infoHash);
        if (Directory.Exists(parts))
        {
            foreach (string source in Directory.EnumerateFiles(parts, "*", SearchOption.AllDirectories))
                moves.Add((source, to + Path.GetRelativePath(from, source)));
        }
        MoveFiles(moves, from, to, $"moving the data to {toDirectory}");
    }

    /// <summary>
    /// Moves each file of <paramref name="moves"/> (none may exist at its destination), keeping last-write times, then
    /// removes the folders under <paramref name="from"/> left empty; on a failure puts back what moved and throws
    /// <see cref="IOException"/> starting with <paramref name="what"/>. Roots are normalized (ending with a separator).
    /// </summary>
    internal static void MoveFiles(IReadOnlyList<(string From, string To)> moves, string from, string to, string what)
    {
        // Every destination is looked at before anything moves: a conflict costs nothing at all.
        foreach ((_, string destination) in moves)
        {
            if (File.Exists(destination) || Directory.Exists(destination))
                throw new IOException($"{destination} already exists: it is not overwritten, nothing was moved");
        }
        bool targetExisted = Directory.Exists(to);
        var done = new List<(string From, string To)>(moves.Count);
        try
        {
            foreach ((string source, string destination) in moves)
            {
                DateTime written = File.GetLastWriteTimeUtc(source);
                Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
                File.Move(source, destination, overwrite: false);
                done.Add((source, destination));
                // A copy across file systems may carry a new time; the resume data trusts a file by length and time.
                if (File.GetLastWriteTimeUtc(destination) != written) File.SetLastWriteTimeUtc(destination, written);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            string? stuck = null;
            for (int i = done.Count - 1; i >= 0; i--)
            {
                try
                {
                    DateTime written = File.GetLastWriteTimeUtc(done[i].To);
                    File.Move(done[i].To, done[i].From, overwrite: false);
                    if (File.GetLastWriteTimeUtc(done[i].From) != written) File.SetLastWriteTimeUtc(done[i].From, written);
                }
                catch (Exception back) when (back is IOException or UnauthorizedAccessException)
                {
                    stuck ??= $"; {done[i].To} could not be moved back: {back.Message}";
                }
            }
            RemoveEmptyFolders(to, done.Select(d => d.To), problems: null);
            if (!targetExisted) Try(to, path => { if (Directory.Exists(path) && !Directory.EnumerateFileSystemEntries(path).Any()) Directory.Delete(path); }, problems: null);
            throw new IOException($"{what} failed, nothing was moved: {ex.Message}{stuck}", ex);
        }
        RemoveEmptyFolders(from, done.Select(d => d.From), problems: null);
    }

    /// <summary>The full paths of the torrent's files under <paramref name="root"/> (padding and unsafe paths left out).</summary>
    private static IEnumerable<string> Files(Torrent torrent, string root, IReadOnlyDictionary<int, string>? renamed)
    {
        for (int i = 0; i < torrent.Files.Count; i++)
        {
            if (torrent.Files[i].IsPadding) continue;
            string path;
            try
            {
                path = StoragePaths.Resolve(root, RenamedPaths.Segments(torrent, i, renamed));
            }
            catch (Exception ex) when (ex is StorageException or ArgumentException)
            {
                continue; // the storage never wrote a path it refuses
            }
            yield return path;
        }
    }

    private static string PartsDirectory(string root, InfoHash infoHash) => Path.Combine(root, "." + infoHash.ToHex() + ".parts");

    /// <summary>Removes the folders between each file and <paramref name="root"/> that are left empty, deepest first.</summary>
    private static void RemoveEmptyFolders(string root, IEnumerable<string> files, List<string>? problems)
    {
        var folders = new HashSet<string>(StringComparer.Ordinal);
        foreach (string file in files)
        {
            for (string? dir = Path.GetDirectoryName(file); dir is not null && dir.Length >= root.Length; dir = Path.GetDirectoryName(dir))
                folders.Add(dir);
        }
        // Only folders left empty: a user's own file next to the torrent's keeps its folder.
        foreach (string dir in folders.OrderByDescending(d => d.Length))
        {
            Try(dir, path =>
            {
                if (Directory.Exists(path) && !Directory.EnumerateFileSystemEntries(path).Any()) Directory.Delete(path);
            }, problems);
        }
    }

    private static void Try(string path, Action<string> action, List<string>? problems)
    {
        try
        {
            action(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            problems?.Add($"{path}: {ex.Message}");
        }
    }
}
