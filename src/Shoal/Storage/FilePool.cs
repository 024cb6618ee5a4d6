namespace Shoal.Storage;

/// <summary>
/// The session's bound on open data files: every torrent's <see cref="FileHandleCache"/> takes its handles from one
/// pool, closed least recently used first over all torrents (libtorrent's file pool), so a session of 10,000
/// torrents holds at most <see cref="Capacity"/> descriptors for its data however many files it serves. A handle in
/// use is never closed under its user: past the bound the pool closes idle ones, and when every handle is in use it
/// goes over the bound for as long as they are (at most one per disk job in flight).
/// </summary>
/// <remarks>
/// One lock for the bookkeeping of every torrent's handles: it is held for a few list operations, never across a
/// system call (opening and closing happen outside it), and only disk workers take it.
/// </remarks>
internal sealed class FilePool
{
    /// <summary>
    /// The default bound: well under the usual limit of 1,024 descriptors per process, leaving room for sockets, and
    /// enough for the files a few disk workers touch at once (libtorrent's default is 40).
    /// </summary>
    public const int DefaultCapacity = 128;

    private readonly LinkedList<FileHandleCache.Entry> _lru = new(); // most recently used first
    private long _opened;
    private long _evicted;
    private long _shortages;

    public FilePool(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
    }

    /// <summary>Most data files kept open over all torrents.</summary>
    public int Capacity { get; }

    /// <summary>Guards every cache's entries and the LRU list.</summary>
    internal Lock Gate { get; } = new();

    /// <summary>Data files open now, over all torrents.</summary>
    public int OpenCount
    {
        get { lock (Gate) return _lru.Count; }
    }

    /// <summary>Files opened since the start.</summary>
    public long Opened => Interlocked.Read(ref _opened);

    /// <summary>Idle files closed to stay within <see cref="Capacity"/>.</summary>
    public long Evicted => Interlocked.Read(ref _evicted);

    /// <summary>Times the operating system refused a descriptor (EMFILE/ENFILE) and the pool closed its idle files to retry.</summary>
    public long DescriptorShortages => Interlocked.Read(ref _shortages);

    /// <summary>Makes <paramref name="e"/> the most recently used (caller holds <see cref="Gate"/>).</summary>
    internal void TouchLocked(FileHandleCache.Entry e)
    {
        _lru.Remove(e.Node!);
        _lru.AddFirst(e.Node!);
    }

    /// <summary>
    /// Adds a freshly opened handle (caller holds <see cref="Gate"/>) and detaches the least recently used idle handles
    /// past the bound into <paramref name="toClose"/>, to be closed by the caller outside the lock.
    /// </summary>
    internal void AddLocked(FileHandleCache.Entry e, ref List<FileHandleCache.Entry>? toClose)
    {
        e.Node = _lru.AddFirst(e);
        _opened++;
        for (LinkedListNode<FileHandleCache.Entry>? n = _lru.Last; n is not null && _lru.Count > Capacity;)
        {
            LinkedListNode<FileHandleCache.Entry>? prev = n.Previous;
            FileHandleCache.Entry victim = n.Value;
            if (victim.Users == 0)
            {
                (toClose ??= []).Add(victim);
                victim.Owner.DetachLocked(victim);
                _evicted++;
            }
            n = prev;
        }
    }

    /// <summary>Takes <paramref name="e"/> off the LRU list (caller holds <see cref="Gate"/>).</summary>
    internal void RemoveLocked(FileHandleCache.Entry e) => _lru.Remove(e.Node!);

    /// <summary>
    /// The system is out of descriptors (sockets, other torrents' jobs, another process): closes every idle data file
    /// of every torrent so the caller can retry its open. Returns how many were closed.
    /// </summary>
    internal int CloseAllIdle()
    {
        List<FileHandleCache.Entry>? toClose = null;
        lock (Gate)
        {
            _shortages++;
            for (LinkedListNode<FileHandleCache.Entry>? n = _lru.Last; n is not null;)
            {
                LinkedListNode<FileHandleCache.Entry>? prev = n.Previous;
                if (n.Value.Users == 0)
                {
                    (toClose ??= []).Add(n.Value);
                    n.Value.Owner.DetachLocked(n.Value);
                }
                n = prev;
            }
        }
        if (toClose is null) return 0;
        foreach (FileHandleCache.Entry e in toClose) e.Handle.Dispose();
        return toClose.Count;
    }
}
