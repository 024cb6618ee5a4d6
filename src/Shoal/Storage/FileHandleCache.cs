using Microsoft.Win32.SafeHandles;

namespace Shoal.Storage;

/// <summary>
/// One torrent's open file handles, taken from the session's <see cref="FilePool"/> (which bounds them over all
/// torrents and closes the least recently used first). Handles are reference counted so an eviction or a dispose
/// never closes a handle a worker is using: it is closed when the last user releases it. The pool's lock only guards
/// bookkeeping; opening and closing happen outside it.
/// </summary>
internal sealed class FileHandleCache : IDisposable
{
    internal sealed class Entry
    {
        public required SafeFileHandle Handle;
        public required int FileIndex;
        public required bool Writable;
        public required FileHandleCache Owner;
        public int Users;
        public bool Detached; // no longer in the cache: close when Users drops to 0
        public LinkedListNode<Entry>? Node;
    }

    private readonly string _root;
    private readonly string?[] _paths;
    private readonly bool _readOnly;
    private readonly FilePool _pool;
    private readonly Entry?[] _byFile;
    private readonly Lock _gate; // the pool's
    private int _open;
    private bool _disposed;

    /// <param name="pool">The session's bound on open files.</param>
    /// <param name="root">The download folder (full path ending with a separator); every path lies below it.</param>
    /// <param name="paths">Full path of each file; null for padding and skipped files.</param>
    /// <param name="readOnly">
    /// Seed-only storage: files are only ever opened for reading and never created. Links are followed then (the
    /// user's own data, nothing is written); otherwise no link below <paramref name="root"/> is (see <see cref="NoFollowFile"/>).
    /// </param>
    public FileHandleCache(FilePool pool, string root, string?[] paths, bool readOnly = false)
    {
        _pool = pool;
        _gate = pool.Gate;
        _root = root;
        _readOnly = readOnly;
        _paths = paths;
        _byFile = new Entry?[paths.Length];
    }

    /// <summary>Number of this torrent's handles currently held open.</summary>
    public int OpenCount
    {
        get { lock (_gate) return _open; }
    }

    /// <summary>
    /// Gets a handle for file <paramref name="fileIndex"/>, opening it if needed. With <paramref name="forWrite"/>
    /// the file (and its folders) is created when missing; otherwise a missing file is a
    /// <see cref="StorageException"/> of kind <see cref="StorageErrorKind.NotFound"/>. Pair with <see cref="Release"/>.
    /// </summary>
    public Entry Acquire(int fileIndex, bool forWrite)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            Entry? e = _byFile[fileIndex];
            if (e is not null && (e.Writable || !forWrite))
            {
                e.Users++;
                _pool.TouchLocked(e);
                return e;
            }
        }
        return Open(fileIndex, forWrite);
    }

    /// <summary>
    /// Gets the handle of file <paramref name="fileIndex"/> only if it is open already (never opens: opening is
    /// blocking I/O, and callers of this run on network threads). Pair a non-null result with <see cref="Release"/>.
    /// </summary>
    public Entry? TryAcquireOpen(int fileIndex)
    {
        lock (_gate)
        {
            if (_disposed) return null;
            Entry? e = _byFile[fileIndex];
            if (e is null) return null;
            e.Users++;
            return e;
        }
    }

    public void Release(Entry e)
    {
        bool close;
        lock (_gate)
        {
            e.Users--;
            close = e.Detached && e.Users == 0;
        }
        if (close) e.Handle.Dispose();
    }

    /// <summary>Closes every handle nobody is using (e.g. before checking files that may have changed on disk).</summary>
    public void CloseIdle()
    {
        List<Entry>? toClose = null;
        lock (_gate)
        {
            foreach (Entry? e in _byFile)
            {
                if (e is { Users: 0 }) { (toClose ??= []).Add(e); DetachLocked(e); }
            }
        }
        if (toClose is not null) foreach (Entry e in toClose) e.Handle.Dispose();
    }

    private Entry Open(int fileIndex, bool forWrite)
    {
        string path = _paths[fileIndex] ?? throw new InvalidOperationException("padding files are never opened");
        SafeFileHandle handle;
        bool writable = true;
        if (_readOnly && forWrite) throw new InvalidOperationException($"seed-only storage never writes ('{path}')");
        try
        {
            handle = OpenFile(path, forWrite, out writable);
        }
        catch (StorageException e) when (e.Kind == StorageErrorKind.TooManyOpenFiles)
        {
            // Out of descriptors: every idle data file of the session goes, then one more try. Still refused (sockets
            // or files in use hold them all), the error is transient: the torrent pauses and retries, the session lives on.
            _pool.CloseAllIdle();
            try
            {
                handle = OpenFile(path, forWrite, out writable);
            }
            catch (StorageException again) when (again.Kind == StorageErrorKind.TooManyOpenFiles)
            {
                throw new StorageException(StorageErrorKind.TooManyOpenFiles, path,
                    $"Cannot open '{path}': the process has no file descriptor left ({_pool.OpenCount} data files open, bound {_pool.Capacity}; " +
                    "raise the open-files limit (ulimit -n) or lower the connection limit)", again);
            }
        }

        var entry = new Entry { Handle = handle, FileIndex = fileIndex, Writable = writable, Users = 1, Owner = this };
        List<Entry>? toClose = null;
        lock (_gate)
        {
            if (_disposed)
            {
                toClose = [entry];
                entry.Detached = true;
            }
            else
            {
                Entry? existing = _byFile[fileIndex];
                if (existing is not null && (existing.Writable || !writable))
                {
                    // Another worker opened it meanwhile: use theirs, close ours.
                    existing.Users++;
                    _pool.TouchLocked(existing);
                    handle.Dispose();
                    return existing;
                }
                if (existing is not null)
                {
                    DetachLocked(existing);
                    if (existing.Users == 0) (toClose ??= []).Add(existing);
                }
                _byFile[fileIndex] = entry;
                _open++;
                _pool.AddLocked(entry, ref toClose);
            }
        }
        if (toClose is not null)
        {
            foreach (Entry e in toClose) e.Handle.Dispose();
            if (entry.Detached) throw new ObjectDisposedException(nameof(TorrentStorage));
        }
        return entry;
    }

    private SafeFileHandle OpenFile(string path, bool forWrite, out bool writable)
    {
        try
        {
            if (_readOnly)
            {
                writable = false;
                return File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            }
            // Created (with its folders) only for writing; opened read-write when possible so a later write can reuse it.
            return NoFollowFile.Open(_root, path, create: forWrite, allowWrite: true, out writable);
        }
        catch (Exception e)
        {
            throw StorageException.From(e, forWrite ? "create or open for writing" : "open", path);
        }
    }

    /// <summary>Takes <paramref name="e"/> out of this cache and the pool (caller holds the pool's lock); closed once idle.</summary>
    internal void DetachLocked(Entry e)
    {
        if (e.Detached) return;
        e.Detached = true;
        _pool.RemoveLocked(e);
        e.Node = null;
        _open--;
        if (ReferenceEquals(_byFile[e.FileIndex], e)) _byFile[e.FileIndex] = null;
    }

    public void Dispose()
    {
        List<Entry> toClose = [];
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            foreach (Entry? e in _byFile)
            {
                if (e is null) continue;
                DetachLocked(e);
                if (e.Users == 0) toClose.Add(e);
            }
        }
        foreach (Entry e in toClose) e.Handle.Dispose();
    }
}
