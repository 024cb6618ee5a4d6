namespace Shoal.Storage;

/// <summary>
/// A storage operation failed. The message names the file and what went wrong; <see cref="Kind"/> lets the
/// caller decide (pause the torrent on <see cref="StorageErrorKind.DiskFull"/>, reject a torrent on
/// <see cref="StorageErrorKind.UnsafePath"/>...).
/// </summary>
public sealed class StorageException : IOException
{
    // errno values (Linux) and Win32 error codes .NET puts in IOException.HResult for the cases we name.
    private const int ENOSPC = 28, EROFS = 30, EDQUOT = 122, EACCES = 13, EPERM = 1, ENOENT = 2, ENOTDIR = 20, ENAMETOOLONG = 36, EILSEQ = 84, EMFILE = 24, ENFILE = 23;
    private const int ERROR_HANDLE_DISK_FULL = 0x27, ERROR_DISK_FULL = 0x70, ERROR_WRITE_PROTECT = 0x13, ERROR_ACCESS_DENIED = 5;
    private const int ERROR_INVALID_NAME = 0x7B, ERROR_FILENAME_EXCED_RANGE = 0xCE, ERROR_TOO_MANY_OPEN_FILES = 4;

    /// <summary>Creates the exception.</summary>
    public StorageException(StorageErrorKind kind, string? filePath, string message, Exception? inner = null)
        : base(message, inner)
    {
        Kind = kind;
        FilePath = filePath;
    }

    /// <summary>What kind of failure this is.</summary>
    public StorageErrorKind Kind { get; }

    /// <summary>
    /// True when trying again cannot succeed until the user changes something: a read-only file system, access
    /// denied, a path that is unsafe, too long or invalid there. False for what can pass on its own (a full disk, a
    /// file that vanished, other I/O errors), which the engine retries after a pause.
    /// </summary>
    public bool IsPermanent => IsPermanentKind(Kind);

    /// <summary>See <see cref="IsPermanent"/>.</summary>
    public static bool IsPermanentKind(StorageErrorKind kind) => kind is StorageErrorKind.ReadOnly or StorageErrorKind.AccessDenied
        or StorageErrorKind.UnsafePath or StorageErrorKind.NameTooLong or StorageErrorKind.InvalidName or StorageErrorKind.SymbolicLink;

    /// <summary>The full path of the file involved, when there is one.</summary>
    public string? FilePath { get; }

    /// <summary>
    /// Wraps a low-level exception into a <see cref="StorageException"/> whose message says what was being done
    /// (<paramref name="operation"/>, e.g. "write"), to which file, and why.
    /// </summary>
    public static StorageException From(Exception e, string operation, string? filePath)
    {
        if (e is StorageException se) return se;
        StorageErrorKind kind = Classify(e);
        string why = kind switch
        {
            StorageErrorKind.DiskFull => "the disk is full",
            StorageErrorKind.ReadOnly => "the file system is read-only",
            StorageErrorKind.AccessDenied => "access is denied",
            StorageErrorKind.NotFound => "the file or a folder on its path does not exist",
            StorageErrorKind.NameTooLong => "the name is longer than the file system allows",
            StorageErrorKind.InvalidName => "the file system does not accept the name",
            StorageErrorKind.TooManyOpenFiles => "the process has too many open files",
            _ => "I/O error",
        };
        return new StorageException(kind, filePath, $"Cannot {operation} '{filePath}': {why} ({e.Message})", e);
    }

    private static StorageErrorKind Classify(Exception e)
    {
        switch (e)
        {
            case UnauthorizedAccessException:
                return StorageErrorKind.AccessDenied;
            case PathTooLongException:
                return StorageErrorKind.NameTooLong;
            case FileNotFoundException or DirectoryNotFoundException:
                return StorageErrorKind.NotFound;
            case IOException io:
                int code = io.HResult;
                // On Windows HResult is 0x8007xxxx wrapping a Win32 code; on Unix .NET stores the raw errno.
                int low = (code & unchecked((int)0xFFFF0000)) == unchecked((int)0x80070000) ? code & 0xFFFF : code;
                if (OperatingSystem.IsWindows())
                {
                    return low switch
                    {
                        ERROR_DISK_FULL or ERROR_HANDLE_DISK_FULL => StorageErrorKind.DiskFull,
                        ERROR_WRITE_PROTECT => StorageErrorKind.ReadOnly,
                        ERROR_ACCESS_DENIED => StorageErrorKind.AccessDenied,
                        ERROR_FILENAME_EXCED_RANGE => StorageErrorKind.NameTooLong,
                        ERROR_INVALID_NAME => StorageErrorKind.InvalidName,
                        ERROR_TOO_MANY_OPEN_FILES => StorageErrorKind.TooManyOpenFiles,
                        _ => StorageErrorKind.IOError,
                    };
                }
                return low switch
                {
                    ENOSPC or EDQUOT => StorageErrorKind.DiskFull,
                    EROFS => StorageErrorKind.ReadOnly,
                    EACCES or EPERM => StorageErrorKind.AccessDenied,
                    ENOENT or ENOTDIR => StorageErrorKind.NotFound,
                    ENAMETOOLONG => StorageErrorKind.NameTooLong,
                    EILSEQ => StorageErrorKind.InvalidName,
                    EMFILE or ENFILE => StorageErrorKind.TooManyOpenFiles,
                    _ => StorageErrorKind.IOError,
                };
            default:
                return StorageErrorKind.IOError;
        }
    }
}
