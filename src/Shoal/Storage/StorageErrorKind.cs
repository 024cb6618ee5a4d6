namespace Shoal.Storage;

/// <summary>
/// Why a storage operation failed. <see cref="StorageException.IsPermanent"/> tells the kinds that retrying cannot
/// fix (read-only, access denied, unsafe or impossible names) from those that can pass (disk full, a vanished
/// file, other I/O errors).
/// </summary>
public enum StorageErrorKind
{
    /// <summary>Any other I/O error.</summary>
    IOError,

    /// <summary>No space left on the device (or quota exceeded).</summary>
    DiskFull,

    /// <summary>The file system is mounted read-only.</summary>
    ReadOnly,

    /// <summary>Permission denied.</summary>
    AccessDenied,

    /// <summary>A path from the torrent is unsafe (escapes the download folder, reserved name, separators, NUL...).</summary>
    UnsafePath,

    /// <summary>The file (or a folder on its path) does not exist, or is shorter than the torrent says.</summary>
    NotFound,

    /// <summary>A name or the whole path is longer than the file system allows (ENAMETOOLONG).</summary>
    NameTooLong,

    /// <summary>The file system refuses the name itself (EILSEQ: bytes it cannot store; a Windows-invalid name).</summary>
    InvalidName,

    /// <summary>
    /// The file, or a folder on its path inside the download folder, is a symbolic link: Shoal never writes or reads
    /// through one (it could lead outside the folder). A conflict the user must resolve; retrying cannot help.
    /// </summary>
    SymbolicLink,

    /// <summary>
    /// The process (EMFILE) or the system (ENFILE) has no file descriptor left. Transient: the session's file pool
    /// closes its idle files and the torrent retries after a pause.
    /// </summary>
    TooManyOpenFiles,
}
