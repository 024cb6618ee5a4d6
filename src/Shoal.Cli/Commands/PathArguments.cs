namespace Shoal.Cli.Commands;

/// <summary>Checks and normalises paths given on the command line.</summary>
internal static class PathArguments
{
    /// <summary>The full path of an existing file or folder, without a trailing separator; a usage error otherwise.</summary>
    public static string ExistingContent(string path)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new CliException("the path is empty");
        string full;
        try
        {
            full = Path.GetFullPath(path);
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

    /// <summary>The content's name (its last segment) and the folder it lives in.</summary>
    public static (string Directory, string Name) Split(string fullPath)
        => (Path.GetDirectoryName(fullPath) ?? throw new CliException($"'{fullPath}' has no parent folder"), Path.GetFileName(fullPath));
}
