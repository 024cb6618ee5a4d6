namespace Shoal.Dht;

/// <summary>
/// One process's exclusive claim on a DHT state folder (issue 21: two processes that load one saved state would run
/// with one node id and take each other for themselves). The claim is an operating-system lock on the file
/// <see cref="LockFileName"/> in the folder — a <see cref="FileStream"/> opened with <see cref="FileShare.None"/>,
/// which .NET implements with <c>flock(LOCK_EX)</c> on Unix and a sharing lock on Windows — so it ends with the
/// process, however it ends: a crash never leaves a stale claim. The lock file itself stays (deleting it on release
/// would let two later processes lock two different files of the same name).
/// </summary>
/// <remarks>
/// Only the owner of a claim writes the folder's state files; anyone may read them (they are replaced by an atomic
/// rename, see <see cref="DhtState.Save(string, string)"/>), which is how <c>shoal dht stats</c> reads the tables of a
/// running node.
/// </remarks>
public sealed class DhtStateFolder : IDisposable
{
    /// <summary>The lock file's name inside the folder.</summary>
    public const string LockFileName = "dht.lock";

    private readonly FileStream _lock;

    private DhtStateFolder(string directory, FileStream lockStream)
    {
        Directory = directory;
        _lock = lockStream;
    }

    /// <summary>The claimed folder.</summary>
    public string Directory { get; }

    /// <summary>Claims <paramref name="directory"/> (created if missing) for this process until <see cref="Dispose"/>.</summary>
    /// <exception cref="DhtStateInUseException">Another process (or another node of this process) holds the folder.</exception>
    /// <exception cref="IOException">The folder or its lock file cannot be created.</exception>
    /// <exception cref="UnauthorizedAccessException">The folder is not writable.</exception>
    public static DhtStateFolder Claim(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        string full = Path.GetFullPath(directory);
        System.IO.Directory.CreateDirectory(full);
        string path = Path.Combine(full, LockFileName);
        try
        {
            // FileShare.None is the lock: a second open of the file, from any process, fails until this one closes.
            var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, bufferSize: 1, FileOptions.None);
            return new DhtStateFolder(full, stream);
        }
        catch (IOException ex) when (IsLockConflict(ex))
        {
            throw new DhtStateInUseException(full, ex);
        }
    }

    /// <summary>Releases the claim (closes the lock file; the file stays).</summary>
    public void Dispose() => _lock.Dispose();

    /// <summary>
    /// Whether an open failed because someone holds the lock: EAGAIN/EWOULDBLOCK from flock on Linux (11) and on
    /// macOS and BSD (35), a sharing or lock violation on Windows. Anything else is a real I/O problem.
    /// </summary>
    private static bool IsLockConflict(IOException ex)
    {
        if (ex is FileNotFoundException or DirectoryNotFoundException or PathTooLongException) return false;
        int code = ex.HResult;
        return code is 11 or 35 or 32 or 33 or unchecked((int)0x80070020) or unchecked((int)0x80070021);
    }
}

/// <summary>
/// A DHT state folder is claimed by another process (or another node of this one): see <see cref="DhtStateFolder"/>
/// and <see cref="DhtStateAccess"/>.
/// </summary>
public sealed class DhtStateInUseException : IOException
{
    /// <summary>Creates the exception for <paramref name="directory"/>.</summary>
    public DhtStateInUseException(string directory, Exception? inner = null)
        : base($"the DHT state folder {directory} is in use by another running DHT node", inner)
    {
        Directory = directory;
    }

    /// <summary>The folder in use.</summary>
    public string Directory { get; }
}
