using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Shoal.Storage;

/// <summary>
/// Opens a torrent's files without following a symbolic link anywhere below the download folder. A link inside the
/// folder (<c>DIR/data.bin -&gt; ~/.bashrc</c>, or a linked sub-folder) would make a download write outside it; such a
/// link is a conflict (<see cref="StorageErrorKind.SymbolicLink"/>), never written or read through. The download
/// folder itself may be a link: that is the user's choice of where data goes.
/// </summary>
/// <remarks>
/// On Linux every path component is opened relative to its parent with <c>openat(O_NOFOLLOW)</c> (folders created
/// with <c>mkdirat</c>), so no link can be swapped in between a check and the open. Elsewhere each component is
/// checked with lstat first, then the file is opened by path: a link planted in that short window is not caught.
/// </remarks>
internal static partial class NoFollowFile
{
    private const int ELOOP = 40, ENOENT = 2, EEXIST = 17, EACCES = 13, EROFS = 30, EPERM = 1, EINTR = 4;
    private static readonly OpenFlags? Flags = OpenFlags.ForThisProcess();

    /// <summary>
    /// Opens <paramref name="fullPath"/>, which lies under <paramref name="root"/> (ending with a separator), for
    /// reading and, unless refused (read-only media), writing. With <paramref name="create"/> a missing file and its
    /// folders are created. Returns whether the handle is writable. Throws <see cref="StorageException"/> of kind
    /// <see cref="StorageErrorKind.SymbolicLink"/> when a component below the root is a link, or as
    /// <see cref="StorageException.From"/> classifies any other failure.
    /// </summary>
    public static SafeFileHandle Open(string root, string fullPath, bool create, bool allowWrite, out bool writable)
    {
        if (!fullPath.StartsWith(root, StringComparison.Ordinal) || fullPath.Length == root.Length)
            throw new StorageException(StorageErrorKind.UnsafePath, fullPath, $"Refusing '{fullPath}': it is not inside '{root}'");
        string[] segments = fullPath[root.Length..].Split(Path.DirectorySeparatorChar);
        return Flags is { } flags
            ? OpenAt(flags, root, fullPath, segments, create, allowWrite, out writable)
            : OpenChecked(root, fullPath, segments, create, allowWrite, out writable);
    }

    /// <summary>The first component of <paramref name="fullPath"/> below <paramref name="root"/> that is a symbolic link; null when none is.</summary>
    public static string? FindLink(string root, string fullPath)
    {
        string current = root;
        foreach (string segment in fullPath[root.Length..].Split(Path.DirectorySeparatorChar))
        {
            current = Path.Combine(current, segment);
            if (new FileInfo(current).LinkTarget is not null) return current; // readlink: dangling links too
            if (!Directory.Exists(current)) return null; // missing, or the file at the end
        }
        return null;
    }

    /// <summary>The error for a link found at <paramref name="link"/>.</summary>
    public static StorageException LinkConflict(string link) => new(StorageErrorKind.SymbolicLink, link,
        $"'{link}' is a symbolic link; Shoal never writes or reads through links inside the download folder (remove it or choose another folder)");

    private static SafeFileHandle OpenAt(OpenFlags flags, string root, string fullPath, string[] segments, bool create, bool allowWrite, out bool writable)
    {
        int rootFlags = flags.ReadOnly | flags.Directory | flags.CloseOnExec;
        int dir = Retry(() => OpenRaw(root, rootFlags, 0));
        if (dir < 0 && create && Marshal.GetLastPInvokeError() == ENOENT)
        {
            // The download folder is the user's choice (links in it and above it included): created as asked.
            try
            {
                Directory.CreateDirectory(root);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw StorageException.From(e, "create the download folder", root);
            }
            dir = Retry(() => OpenRaw(root, rootFlags, 0));
        }
        if (dir < 0) throw Failure(Marshal.GetLastPInvokeError(), "open the download folder", root);
        string current = root;
        try
        {
            for (int i = 0; i < segments.Length - 1; i++)
            {
                current = Path.Combine(current, segments[i]);
                int next = OpenDirectoryAt(flags, dir, segments[i], create, current, fullPath);
                Close(dir);
                dir = next;
            }
            int access = allowWrite ? flags.ReadWrite : flags.ReadOnly;
            int common = flags.NoFollow | flags.CloseOnExec | (create ? flags.Create : 0);
            string name = segments[^1];
            int fd = Retry(() => OpenAtRaw(dir, name, access | common, 0x1B6 /* 0666 */));
            int error = fd < 0 ? Marshal.GetLastPInvokeError() : 0;
            writable = allowWrite;
            if (fd < 0 && allowWrite && !create && error is EACCES or EROFS or EPERM)
            {
                // Seeding from read-only media: reading is all we need.
                fd = Retry(() => OpenAtRaw(dir, name, flags.ReadOnly | common, 0));
                error = fd < 0 ? Marshal.GetLastPInvokeError() : 0;
                writable = false;
            }
            if (fd < 0) throw error == ELOOP ? LinkConflict(fullPath) : Failure(error, create ? "create or open for writing" : "open", fullPath);
            return new SafeFileHandle(fd, ownsHandle: true);
        }
        finally
        {
            Close(dir);
        }
    }

    /// <summary>Opens (or creates) one folder on the way to <paramref name="file"/>; errors name the file, as they would without the walk.</summary>
    private static int OpenDirectoryAt(OpenFlags flags, int parent, string name, bool create, string path, string file)
    {
        int directoryFlags = flags.ReadOnly | flags.Directory | flags.NoFollow | flags.CloseOnExec;
        int fd = Retry(() => OpenAtRaw(parent, name, directoryFlags, 0));
        if (fd < 0 && Marshal.GetLastPInvokeError() == ENOENT && create)
        {
            if (MakeDirectoryAt(parent, name, 0x1FF /* 0777 */) != 0 && Marshal.GetLastPInvokeError() is int mkdirError && mkdirError != EEXIST)
                throw Failure(mkdirError, "create or open for writing", file);
            fd = Retry(() => OpenAtRaw(parent, name, directoryFlags, 0));
        }
        if (fd >= 0) return fd;
        int error = Marshal.GetLastPInvokeError();
        // O_NOFOLLOW | O_DIRECTORY on a link: ELOOP (or ENOTDIR on some kernels for a link to a file).
        if (error == ELOOP || NoFollowFile.FindLink(path[..^name.Length], path) is not null) throw LinkConflict(path);
        throw Failure(error, create ? "create or open for writing" : "open", file);
    }

    private static SafeFileHandle OpenChecked(string root, string fullPath, string[] segments, bool create, bool allowWrite, out bool writable)
    {
        if (FindLink(root, fullPath) is { } link) throw LinkConflict(link);
        try
        {
            if (create)
            {
                string? dir = Path.GetDirectoryName(fullPath);
                if (dir is not null) Directory.CreateDirectory(dir);
                if (FindLink(root, fullPath) is { } late) throw LinkConflict(late);
            }
            writable = allowWrite;
            FileMode mode = create ? FileMode.OpenOrCreate : FileMode.Open;
            if (!allowWrite) return File.OpenHandle(fullPath, mode, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            try
            {
                return File.OpenHandle(fullPath, mode, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
            }
            catch (UnauthorizedAccessException) when (!create)
            {
                writable = false;
                return File.OpenHandle(fullPath, mode, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            }
        }
        catch (Exception e) when (e is not StorageException)
        {
            throw StorageException.From(e, create ? "create or open for writing" : "open", fullPath);
        }
    }

    private static StorageException Failure(int errno, string operation, string path)
        => StorageException.From(new IOException(Marshal.GetPInvokeErrorMessage(errno), errno), operation, path);

    private static int Retry(Func<int> call)
    {
        int result;
        do result = call();
        while (result < 0 && Marshal.GetLastPInvokeError() == EINTR);
        return result;
    }

    private static void Close(int fd)
    {
        if (fd >= 0) _ = CloseRaw(fd);
    }

    /// <summary>open(2) flag values, which differ between architectures; null where they are not known (portable path).</summary>
    private sealed record OpenFlags(int ReadOnly, int ReadWrite, int Create, int Directory, int NoFollow, int CloseOnExec)
    {
        public static OpenFlags? ForThisProcess()
        {
            if (!OperatingSystem.IsLinux()) return null;
            return RuntimeInformation.ProcessArchitecture switch
            {
                // asm-generic values (x86, x86-64, RISC-V, LoongArch, s390x use them too; listed here are the tested ones).
                Architecture.X64 or Architecture.X86 => new OpenFlags(0, 2, 0x40, 0x10000, 0x20000, 0x80000),
                // arm and arm64 swap O_DIRECTORY and O_NOFOLLOW's neighbours.
                Architecture.Arm64 or Architecture.Arm => new OpenFlags(0, 2, 0x40, 0x4000, 0x8000, 0x80000),
                _ => null,
            };
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int OpenRaw(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "openat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int OpenAtRaw(int directory, string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "mkdirat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int MakeDirectoryAt(int directory, string path, int mode);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int CloseRaw(int fd);
}
