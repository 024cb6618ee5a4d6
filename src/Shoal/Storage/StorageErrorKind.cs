namespace Shoal.Storage;

/// <summary>Why a storage operation failed.</summary>
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

    /// <summary>
    /// The file, or a folder on its path inside the download folder, is a symbolic link: Shoal never writes or reads
    /// through one (it could lead outside the folder). A conflict the user must resolve; retrying cannot help.
    /// </summary>
    SymbolicLink,
}
