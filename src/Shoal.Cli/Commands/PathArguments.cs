namespace Shoal.Cli.Commands;

/// <summary>Checks and normalises paths given on the command line.</summary>
internal static class PathArguments
{
    /// <summary>
    /// <c>~</c> and <c>~/...</c> become the home folder, as a shell would do: a quoted path, or one after
    /// <c>--option=</c>, reaches us unexpanded. <c>~user</c> and everything else are left as they are.
    /// </summary>
    public static string ExpandHome(string path)
    {
        if (path.Length == 0 || path[0] != '~') return path;
        if (path.Length > 1 && path[1] != '/' && path[1] != Path.DirectorySeparatorChar) return path;
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile, Environment.SpecialFolderOption.DoNotVerify);
        if (string.IsNullOrEmpty(home)) return path;
        return path.Length == 1 ? home : Path.Combine(home, path[2..]);
    }

    /// <summary>The full path of an existing file or folder, without a trailing separator; a usage error otherwise.</summary>
    public static string ExistingContent(string path)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new CliException("the path is empty");
        string full;
        try
        {
            full = Path.GetFullPath(ExpandHome(path));
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new CliException($"invalid path '{path}': {ex.Message}", ExitCodes.Usage, ex);
        }
        full = Path.TrimEndingDirectorySeparator(full);
        if (!File.Exists(full) && !Directory.Exists(full)) throw new CliException($"no such file or folder: {path}");
        if (Path.GetFileName(full).Length == 0) throw new CliException($"cannot share a file system root: {path}");
        return full;
    }

    /// <summary>
    /// The bytes under <paramref name="content"/> (see <see cref="Reporting.HashingProgress.MeasureBytes"/>); a usage
    /// error when there are none: a torrent of an empty folder or a 0-byte file cannot be made.
    /// </summary>
    public static long RequireData(string content, string asGiven)
    {
        long bytes;
        try
        {
            bytes = Reporting.HashingProgress.MeasureBytes(content);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot read '{asGiven}': {ex.Message}", ExitCodes.Failure, ex);
        }
        if (bytes == 0)
        {
            throw new CliException(Directory.Exists(content)
                ? $"'{asGiven}' holds no data (no files, or only empty ones): a torrent needs at least one byte"
                : $"'{asGiven}' is empty: a torrent needs at least one byte");
        }
        return bytes;
    }

    /// <summary>The content's name (its last segment) and the folder it lives in.</summary>
    public static (string Directory, string Name) Split(string fullPath)
        => (Path.GetDirectoryName(fullPath) ?? throw new CliException($"'{fullPath}' has no parent folder"), Path.GetFileName(fullPath));
}
