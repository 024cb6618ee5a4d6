using Microsoft.Win32.SafeHandles;

namespace Shoal.Storage;

/// <summary>
/// A bounded set of open file handles for one torrent, closed least-recently-used first. Handles are
/// reference counted so an eviction or a dispose never closes a handle a worker is using: it is closed
/// when the last user releases it. The lock only guards bookkeeping; opening and closing happen outside it.
/// </summary>
internal sealed class FileHandleCache : IDisposable
{
    internal sealed class Entry
    {
        public required SafeFileHandle Handle;
        public required int FileIndex;
        public required bool Writable;
        public int Users;
        public bool Detached; // no longer in the cache: close when Users drops to 0
        public LinkedListNode<Entry>? Node;
    }

    private readonly string _root;
    private readonly string?[] _paths;
    private readonly bool _readOnly;
    private readonly int _capacity;
    private readonly Entry?[] _byFile;
    private readonly LinkedList<Entry> _lru = new(); // most recently used first
    private readonly object _gate = new();
    private bool _disposed;

    /// <param name="root">The download folder (full path ending with a separator); every path lies below it.</param>
    /// <param name="paths">Full path of each file; null for padding and skipped files.</param>
    /// <param name="capacity">Most handles kept open.</param>
    /// <param name="readOnly">
    /// Seed-only storage: files are only ever opened for reading and never created. Links are followed then (the
    /// user's own data, nothing is written); otherwise no link below <paramref name="root"/> is (see <see cref="NoFollowFile"/>).
    /// </param>
    public FileHandleCache(string root, string?[] paths, int capacity, bool readOnly = false)
    {
        _root = root;
        _readOnly = readOnly;
        _paths = paths;
        _capacity = Math.Max(1, capacity);
        _byFile = new Entry?[paths.Length];
    }

    /// <summary>Number of handles currently held open by the cache.</summary>
    public int OpenCount
    {
        get { lock (_gate) return _lru.Count; }
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
                _lru.Remove(e.Node!);
                _lru.AddFirst(e.Node!);
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
            LinkedListNode<Entry>? n = _lru.First;
            while (n is not null)
            {
                LinkedListNode<Entry>? next = n.Next;
                if (n.Value.Users == 0) { (toClose ??= []).Add(n.Value); DetachLocked(n.Value); }
                n = next;
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
            if (_readOnly)
            {
                handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                writable = false;
            }
            else
            {
                // Created (with its folders) only for writing; opened read-write when possible so a later write can reuse it.
                handle = NoFollowFile.Open(_root, path, create: forWrite, allowWrite: true, out writable);
            }
        }
        catch (Exception e)
        {
            throw StorageException.From(e, forWrite ? "create or open for writing" : "open", path);
        }

        var entry = new Entry { Handle = handle, FileIndex = fileIndex, Writable = writable, Users = 1 };
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
                    _lru.Remove(existing.Node!);
                    _lru.AddFirst(existing.Node!);
                    handle.Dispose();
                    return existing;
                }
                if (existing is not null)
                {
                    DetachLocked(existing);
                    if (existing.Users == 0) (toClose ??= []).Add(existing);
                }
                entry.Node = _lru.AddFirst(entry);
                _byFile[fileIndex] = entry;
                for (LinkedListNode<Entry>? n = _lru.Last; n is not null && _lru.Count > _capacity;)
                {
                    LinkedListNode<Entry>? prev = n.Previous;
                    if (n.Value.Users == 0) { (toClose ??= []).Add(n.Value); DetachLocked(n.Value); }
                    n = prev;
                }
            }
        }
        if (toClose is not null)
        {
            foreach (Entry e in toClose) e.Handle.Dispose();
            if (entry.Detached) throw new ObjectDisposedException(nameof(TorrentStorage));
        }
        return entry;
    }

    private void DetachLocked(Entry e)
    {
        if (e.Detached) return;
        e.Detached = true;
        _lru.Remove(e.Node!);
        e.Node = null;
        if (ReferenceEquals(_byFile[e.FileIndex], e)) _byFile[e.FileIndex] = null;
    }

    public void Dispose()
    {
        List<Entry> toClose = [];
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            while (_lru.First is { } n)
            {
                Entry e = n.Value;
                DetachLocked(e);
                if (e.Users == 0) toClose.Add(e);
            }
        }
        foreach (Entry e in toClose) e.Handle.Dispose();
    }
}
