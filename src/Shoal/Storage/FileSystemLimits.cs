using System.Runtime.InteropServices;

namespace Shoal.Storage;

/// <summary>
/// How long a name and a whole path may be on the file system that holds a download folder, in UTF-8 bytes, as
/// <c>pathconf</c> reports them (255 and 4096 on ext4, btrfs and XFS; 143 per name on eCryptfs). Checked when a
/// torrent is added, so a name the file system cannot store is refused with one line before anything downloads,
/// instead of failing on every write.
/// </summary>
internal readonly partial record struct FileSystemLimits(int MaxNameBytes, int MaxPathBytes)
{
    /// <summary>The POSIX minimums everyone meets: 255 bytes per name, 4096 per path (terminating NUL included).</summary>
    public static FileSystemLimits Default { get; } = new(255, 4096);

    /// <summary>The limits for <paramref name="directory"/>, asked of its nearest existing ancestor; the defaults when the OS cannot say.</summary>
    public static FileSystemLimits For(string directory)
    {
        if (OperatingSystem.IsWindows()) return new FileSystemLimits(255, 32_767); // NTFS names; long paths, which .NET enables
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return Default;
        string? existing = Path.GetFullPath(directory);
        while (existing is not null && !Directory.Exists(existing)) existing = Path.GetDirectoryName(existing);
        if (existing is null) return Default;
        // pathconf names differ: _PC_NAME_MAX/_PC_PATH_MAX are 3/4 on Linux, 4/5 on macOS.
        int nameKey = OperatingSystem.IsLinux() ? 3 : 4;
        int pathKey = OperatingSystem.IsLinux() ? 4 : 5;
        long name = PathConf(existing, nameKey), path = PathConf(existing, pathKey);
        return new FileSystemLimits(
            name is > 0 and <= int.MaxValue ? (int)name : Default.MaxNameBytes,
            path is > 0 and <= int.MaxValue ? (int)path : Default.MaxPathBytes);
    }

    private static long PathConf(string path, int name)
    {
        try
        {
            return NativeMethods.pathconf(path, name);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return -1;
        }
    }

    private static partial class NativeMethods
    {
        [LibraryImport("libc", EntryPoint = "pathconf", StringMarshalling = StringMarshalling.Utf8)]
        internal static partial nint pathconf(string path, int name);
    }
}
