namespace Shoal.Storage;

/// <summary>
/// What BEP 47's file attributes ask of a complete download, done once every piece is verified: files marked 'x' get
/// their execute bits (where a read bit is set, as <c>chmod +x</c> under the usual umask), and files marked 'l' become
/// symbolic links to their target inside the torrent (a relative link, so the folder can be moved).
/// </summary>
/// <remarks>
/// The rules that keep the user's files safe: a link is only made when its target is a file or folder of the same
/// torrent (the metainfo parser leaves <see cref="StorageFile.SymlinkTarget"/> null otherwise, and such an entry is an
/// empty regular file); no link is made, and no mode changed, through a link already in the download folder; an
/// existing file or folder where a link belongs is left as it is (reported, never replaced); seed-only storage
/// touches nothing. Nothing is followed: the link is made at its own path, the mode is set on the regular file.
/// </remarks>
internal static class FinishedFiles
{
    private const UnixFileMode ExecuteBits = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    /// <summary>
    /// Applies the attributes of <paramref name="layout"/>'s files under <paramref name="root"/> (a normalized download
    /// folder). Returns one line per file it would not touch, for the log; never throws for one file's failure.
    /// </summary>
    public static List<string> Apply(string root, StorageLayout layout, Func<int, bool> isSkipped)
    {
        var problems = new List<string>();
        if (OperatingSystem.IsWindows()) return problems; // no mode bits; links need privileges there
        for (int i = 0; i < layout.Files.Count; i++)
        {
            StorageFile file = layout.Files[i];
            if (file.IsPadding || isSkipped(i)) continue;
            try
            {
                if (file.SymlinkTarget is { } target) MakeLink(root, file, target, problems);
                else if (file.IsExecutable && !OperatingSystem.IsWindows()) MakeExecutable(root, file, problems);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or StorageException)
            {
                problems.Add($"{string.Join('/', file.PathSegments)}: {e.Message}");
            }
        }
        return problems;
    }

    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static void MakeExecutable(string root, StorageFile file, List<string> problems)
    {
        string path = StoragePaths.Resolve(root, file.PathSegments);
        if (NoFollowFile.FindLink(root, path) is { } link)
        {
            problems.Add($"{link} is a symbolic link: the execute bit of {path} was not set");
            return;
        }
        if (!File.Exists(path)) return;
        UnixFileMode mode = File.GetUnixFileMode(path);
        // Execute where reading is allowed: a file private to its owner stays private.
        UnixFileMode wanted = mode
            | ((mode & UnixFileMode.UserRead) != 0 ? UnixFileMode.UserExecute : 0)
            | ((mode & UnixFileMode.GroupRead) != 0 ? UnixFileMode.GroupExecute : 0)
            | ((mode & UnixFileMode.OtherRead) != 0 ? UnixFileMode.OtherExecute : 0);
        if ((wanted & ExecuteBits) != (mode & ExecuteBits)) File.SetUnixFileMode(path, wanted);
    }

    private static void MakeLink(string root, StorageFile file, IReadOnlyList<string> target, List<string> problems)
    {
        string path = StoragePaths.Resolve(root, file.PathSegments);
        string targetPath = StoragePaths.Resolve(root, target);
        string folder = Path.GetDirectoryName(path)!;
        // Relative, so the download can be moved; both ends are inside the folder, so the link stays inside.
        string relative = Path.GetRelativePath(folder, targetPath);
        if (NoFollowFile.FindLink(root, folder) is { } parentLink)
        {
            problems.Add($"{parentLink} is a symbolic link: the link {path} was not made");
            return;
        }
        var existing = new FileInfo(path);
        if (existing.LinkTarget is { } current)
        {
            if (current != relative) problems.Add($"{path} is already a link to '{current}', not '{relative}': left as it is");
            return;
        }
        if (existing.Exists || Directory.Exists(path))
        {
            problems.Add($"{path} exists: the torrent's link to '{relative}' was not made (the file was left as it is)");
            return;
        }
        Directory.CreateDirectory(folder);
        if (NoFollowFile.FindLink(root, folder) is { } late)
        {
            problems.Add($"{late} is a symbolic link: the link {path} was not made");
            return;
        }
        File.CreateSymbolicLink(path, relative);
    }
}
