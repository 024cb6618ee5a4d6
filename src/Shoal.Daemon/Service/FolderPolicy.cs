namespace Shoal.Daemon.Service;

/// <summary>
/// The folders the daemon may read and write through its API: save paths, category folders, the default and the
/// incomplete folder must lie inside one of its roots (set on the daemon's command line, never through the API).
/// Paths are compared after symbolic links are resolved, so a link inside a root that points elsewhere does not
/// open a way out.
/// </summary>
public sealed class FolderPolicy
{
    /// <summary>Most symbolic links followed while resolving one path (as Linux's ELOOP bound).</summary>
    private const int MaxLinks = 40;

    private readonly string[] _roots;

    /// <summary>Creates the policy; each root is resolved once here.</summary>
    public FolderPolicy(IEnumerable<string> roots)
    {
        ArgumentNullException.ThrowIfNull(roots);
        _roots = [.. roots.Select(r => WithSeparator(RealPath(Path.GetFullPath(r)))).Distinct(StringComparer.Ordinal)];
        if (_roots.Length == 0) throw new ArgumentException("at least one root folder is needed", nameof(roots));
        Roots = [.. _roots.Select(r => r.Length > 1 ? r.TrimEnd(Path.DirectorySeparatorChar) : r)];
    }

    /// <summary>The roots, resolved.</summary>
    public IReadOnlyList<string> Roots { get; }

    /// <summary>
    /// The full path of <paramref name="path"/> (a relative one is taken from <paramref name="relativeTo"/>), when it
    /// lies inside a root. Throws <see cref="ServiceException"/> (forbidden) naming <paramref name="what"/> otherwise.
    /// </summary>
    public string Confine(string path, string what, string? relativeTo = null)
    {
        if (string.IsNullOrWhiteSpace(path)) throw ServiceException.Bad($"{what} is empty");
        if (path.Contains('\0', StringComparison.Ordinal)) throw ServiceException.Bad($"{what} contains a NUL character");
        string full;
        try
        {
            full = Path.IsPathFullyQualified(path) ? Path.GetFullPath(path)
                : Path.GetFullPath(path, relativeTo ?? Roots[0]);
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw ServiceException.Bad($"{what} '{path}' is not a usable path: {ex.Message}");
        }
        string real = RealPath(full);
        if (!IsInside(real))
        {
            throw new ServiceException(ServiceErrorKind.Forbidden,
                $"{what} '{path}' is outside the folders this daemon may use ({string.Join(", ", Roots)}); start it with --download-root to allow another");
        }
        return full;
    }

    /// <summary>True when <paramref name="path"/> (full) lies inside a root once links are resolved.</summary>
    public bool Contains(string path) => IsInside(RealPath(Path.GetFullPath(path)));

    private bool IsInside(string real)
    {
        string withSeparator = WithSeparator(real);
        foreach (string root in _roots)
        {
            if (withSeparator.StartsWith(root, StringComparison.Ordinal)) return true;
        }
        return false;
    }

    private static string WithSeparator(string path) => path.EndsWith(Path.DirectorySeparatorChar) ? path : path + Path.DirectorySeparatorChar;

    /// <summary>
    /// <paramref name="full"/> with every symbolic link of its existing part resolved (what realpath(3) gives for the
    /// existing prefix); the part that does not exist yet is appended as written (it can hold no link).
    /// </summary>
    internal static string RealPath(string full)
    {
        string root = Path.GetPathRoot(full) ?? "/";
        var pending = new Stack<string>(full[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries).Reverse());
        string current = root;
        int links = 0;
        while (pending.Count > 0)
        {
            string part = pending.Pop();
            if (part == ".") continue;
            if (part == "..") { current = Path.GetDirectoryName(current) ?? root; continue; }
            string next = Path.Combine(current, part);
            FileSystemInfo info = new FileInfo(next);
            if (!info.Exists) info = new DirectoryInfo(next);
            if (info.Exists && info.LinkTarget is { } target)
            {
                if (++links > MaxLinks) throw ServiceException.Bad($"too many symbolic links in '{full}'");
                string targetFull = Path.IsPathFullyQualified(target) ? target : Path.Combine(current, target);
                string targetRoot = Path.GetPathRoot(targetFull) ?? "/";
                foreach (string p in targetFull[targetRoot.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries).Reverse()) pending.Push(p);
                current = targetRoot;
                continue;
            }
            current = next;
        }
        return current;
    }
}
