using Microsoft.Win32.SafeHandles;

namespace Shoal.Storage;

/// <summary>
/// A torrent's bytes in files under a download folder: positional reads and writes across file boundaries (padding
/// reads as zeros and is never written), open handles from the session's bounded <see cref="FilePool"/>, whole copies of the pieces that straddle a
/// skipped file (<see cref="PieceParts"/>), early write-back and a bounded window of written data left in the OS page
/// cache (Linux hints through <see cref="LinuxFileIo"/>), and flushing only the files written since the last flush.
/// </summary>
public sealed class FileStorage : IPieceStorage
{
    // Largest single positional write. Measured on Linux 6.18 / ext4 in a VM: 1 MiB pwrites into the page cache
    // ran at 0.2-0.45 GB/s (the kernel's copy into freshly allocated large folios dominates), 512 KiB and 256 KiB
    // varied between 0.75 and 4.5 GB/s, while 16-128 KiB were steadily 2.8-3.6 GB/s. So a 1 MiB piece becomes 8 writes
    // of 128 KiB: the per-syscall cost is negligible at that size and the slow large-folio path is avoided.
    private const int MaxWriteChunk = 128 * 1024;

    /// <summary>Bytes written to one file between two starts of its write-back (see <see cref="LinuxFileIo.StartWriteback"/>).</summary>
    private const long WritebackStride = 8L * 1024 * 1024;

    private readonly StorageLayout _layout;
    private readonly LinuxFileIo _io;
    private readonly string?[] _paths; // null for padding and skipped files
    private readonly FileHandleCache _handles;
    private readonly int[] _dirty; // per file: 1 when written since its last fsync (set after the write, cleared before the fsync)
    private readonly long[] _unsyncedBytes; // per file: bytes written since write-back was last started
    private readonly object[] _writeGates; // striped by file index: one buffered writer per file at a time (see WriteRange)
    private readonly bool[]? _touchesSkippedFile; // per piece; null when no file is skipped
    private readonly bool[]? _straddles; // per piece: touches a skipped file and a selected one; set with _parts
    private readonly PieceParts? _parts; // copies of straddling pieces; null when not kept
    private readonly long? _osCacheWindow; // null: written data stays in the OS page cache (OsCacheWindow null)
    private RecentWrites? _recentWrites; // made on the first write (a seed never writes)
    private readonly bool _readOnly;
    private int _flushesRunning;
    private int _disposed;

    private FileStorage(LinuxFileIo io, FilePool pool, StorageLayout layout, string root, string?[] paths, StorageOptions options)
    {
        _io = io;
        _layout = layout;
        DownloadDirectory = root;
        _paths = paths;
        _readOnly = options.ReadOnly;
        _handles = new FileHandleCache(pool, root, paths, options.ReadOnly);
        _dirty = new int[paths.Length];
        _unsyncedBytes = new long[paths.Length];
        _writeGates = new object[Math.Clamp(paths.Length, 1, 16)];
        for (int i = 0; i < _writeGates.Length; i++) _writeGates[i] = new object();
        _touchesSkippedFile = PiecesTouching(layout, options.SkippedFiles);
        if (options.PartsDirectory is { } parts && !options.ReadOnly)
        {
            // Kept even when nothing is skipped now: the start-up check deletes copies an earlier selection left.
            _parts = new PieceParts(Path.GetFullPath(parts), layout);
            _straddles = _touchesSkippedFile is null ? new bool[layout.PieceCount] : StraddlingPieces(layout, paths, _touchesSkippedFile);
        }
        if (options.OsCacheWindow is { } window && io.CanDropCached) _osCacheWindow = Math.Max(0, window);
    }

    /// <summary>
    /// Storage for <paramref name="layout"/> under <paramref name="downloadDirectory"/>. Touches no file: files and
    /// folders are created on first write. Throws <see cref="StorageException"/> (kind
    /// <see cref="StorageErrorKind.UnsafePath"/>) when a path is unsafe or two files share a path, and (kind
    /// <see cref="StorageErrorKind.NameTooLong"/>) when a name or path is longer than the folder's file system allows.
    /// </summary>
    internal static FileStorage Create(LinuxFileIo io, FilePool pool, StorageLayout layout, string downloadDirectory, StorageOptions options)
    {
        ArgumentNullException.ThrowIfNull(layout);
        string root = StoragePaths.NormalizeRoot(downloadDirectory);
        FileSystemLimits limits = FileSystemLimits.For(root);
        var paths = new string?[layout.Files.Count];
        var seen = new HashSet<string>(OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal);
        for (int i = 0; i < paths.Length; i++)
        {
            StorageFile f = layout.Files[i];
            // A symbolic link (BEP 47 'l') holds no data and is made at the end (FinishedFiles), never opened as a file.
            bool unused = f.IsPadding || f.SymlinkTarget is not null || options.SkippedFiles?.Contains(i) == true;
            // Padding and skipped files are validated too, though never written; only files written must fit the file system.
            string full = StoragePaths.Resolve(root, f.PathSegments, unused ? null : limits);
            if (unused) continue;
            if (!seen.Add(full))
                throw new StorageException(StorageErrorKind.UnsafePath, full, $"Refusing torrent: two files map to the same path '{full}'");
            paths[i] = full;
        }
        return new FileStorage(io, pool, layout, root, paths, options);
    }

    /// <summary>The download folder (full path, ending with a separator).</summary>
    public string DownloadDirectory { get; }

    /// <summary>Full path of file <paramref name="fileIndex"/> on disk, or null for a padding or skipped file.</summary>
    public string? GetFilePath(int fileIndex) => _paths[fileIndex];

    /// <summary>Seed-only storage (<see cref="StorageOptions.ReadOnly"/>): files are only read, nothing is created or written.</summary>
    public bool IsReadOnly => _readOnly;

    /// <summary>True when part of <paramref name="piece"/> lies in a skipped file: that part is never in the files.</summary>
    public bool TouchesSkippedFile(int piece) => _touchesSkippedFile?[piece] == true;

    /// <inheritdoc />
    public bool RequiresWholePiece(int piece) => TouchesSkippedFile(piece);

    /// <inheritdoc />
    /// <remarks>A piece touching a skipped file can be read back only from its kept copy (<see cref="StorageOptions.PartsDirectory"/>).</remarks>
    public bool CanServe(int piece) => !TouchesSkippedFile(piece) || (_parts is not null && _straddles![piece]);

    // ---------------------------------------------------------------- writes

    /// <inheritdoc />
    public void WritePiece(int piece, ReadOnlySpan<byte> data)
    {
        WriteRange(_layout.GetPieceOffset(piece), data);
        // The bytes of skipped files exist nowhere else: keep the whole piece, or it cannot be read back.
        if (_parts is not null && _straddles![piece]) _parts.Write(piece, data);
    }

    /// <inheritdoc />
    public void WriteBlock(int piece, int offset, ReadOnlySpan<byte> data) => WriteRange(_layout.GetPieceOffset(piece) + offset, data);

    private void WriteRange(long torrentOffset, ReadOnlySpan<byte> source)
    {
        if (_readOnly) throw new InvalidOperationException("seed-only storage never writes");
        int done = 0;
        foreach (FileSlice slice in _layout.MapRange(torrentOffset, source.Length))
        {
            ReadOnlySpan<byte> part = source.Slice(done, (int)slice.Length);
            done += part.Length;
            string? path = _paths[slice.FileIndex];
            if (path is null) continue; // padding: zeros by definition, never written
            FileHandleCache.Entry entry = _handles.Acquire(slice.FileIndex, forWrite: true);
            try
            {
                long fileOffset = slice.FileOffset;
                // One writer per file at a time. The kernel serialises buffered writes to a file on its inode lock
                // anyway, and a writer waiting there spins while the holder copies (10% of a download's CPU in a
                // profile); waiting here sleeps instead, and costs no throughput.
                lock (_writeGates[slice.FileIndex % _writeGates.Length])
                {
                    while (!part.IsEmpty)
                    {
                        ReadOnlySpan<byte> chunk = part.Length > MaxWriteChunk ? part[..MaxWriteChunk] : part;
                        RandomAccess.Write(entry.Handle, chunk, fileOffset);
                        part = part[chunk.Length..];
                        fileOffset += chunk.Length;
                    }
                }
                // After the write, never before: a flush that clears the flag first and then fsyncs covers every
                // write that finished before it, and a write finishing later sets the flag again.
                if (Volatile.Read(ref _dirty[slice.FileIndex]) == 0) Interlocked.Exchange(ref _dirty[slice.FileIndex], 1);
                // Start write-back every WritebackStride bytes per file, so the fsync behind resume data (and at the
                // end of a download) finds little left to write instead of everything since the last one.
                if (Interlocked.Add(ref _unsyncedBytes[slice.FileIndex], slice.Length) >= WritebackStride)
                {
                    Interlocked.Exchange(ref _unsyncedBytes[slice.FileIndex], 0);
                    _io.StartWriteback(entry.Handle);
                }
            }
            catch (Exception e) when (e is not ObjectDisposedException)
            {
                throw StorageException.From(e, "write", path);
            }
            finally
            {
                _handles.Release(entry);
            }
            if (_osCacheWindow is { } window) DropOutsideOsCacheWindow(slice, window);
        }
    }

    /// <summary>
    /// Records a written slice in the OS cache window and drops from the page cache what thereby fell out of it
    /// (see <see cref="StorageOptions.OsCacheWindow"/>). Only a hint: a failure here never fails the write.
    /// </summary>
    private void DropOutsideOsCacheWindow(FileSlice written, long window)
    {
        // Writes to different files run at once on the disk workers: the first one to get here makes the window.
        RecentWrites recent = Volatile.Read(ref _recentWrites) ?? Interlocked.CompareExchange(ref _recentWrites, new RecentWrites(window), null) ?? _recentWrites!;
        if (recent.Record(written.FileIndex, written.FileOffset, written.Length, out FileRange displaced)) DropFromCache(displaced);
        while (recent.TryTakeExpired(out FileRange expired)) DropFromCache(expired);
    }

    private void DropFromCache(FileRange range)
    {
        // Only through a handle that is still open: opening (or creating) a file just to drop its pages is not
        // worth it, and a closed file's pages are the OS's to evict.
        if (_handles.TryAcquireOpen(range.FileIndex) is not { } entry) return;
        try
        {
            _io.DropFromCache(entry.Handle, range.Offset, range.Length);
        }
        finally
        {
            _handles.Release(entry);
        }
    }

    // ---------------------------------------------------------------- reads

    /// <inheritdoc />
    public void Read(int piece, int offset, Span<byte> destination) => ReadRange(_layout.GetPieceOffset(piece) + offset, destination);

    /// <inheritdoc />
    /// <remarks>Only from data already in the OS page cache, only through files already open.</remarks>
    public bool TryReadCached(int piece, int offset, Span<byte> destination)
    {
        if (!_io.CanReadCached || Volatile.Read(ref _disposed) != 0) return false;
        int done = 0;
        foreach (FileSlice slice in _layout.MapRange(_layout.GetPieceOffset(piece) + offset, destination.Length))
        {
            Span<byte> part = destination.Slice(done, (int)slice.Length);
            done += part.Length;
            if (_paths[slice.FileIndex] is null)
            {
                if (ReadsFromKeptCopies(slice.FileIndex)) return false; // disk workers read the copy
                part.Clear(); // padding, or a skipped file's zeros
                continue;
            }
            if (_handles.TryAcquireOpen(slice.FileIndex) is not { } entry) return false;
            try
            {
                if (!_io.TryReadCached(entry.Handle, part, slice.FileOffset)) return false;
            }
            finally
            {
                _handles.Release(entry);
            }
        }
        return true;
    }

    private void ReadRange(long torrentOffset, Span<byte> destination)
    {
        int done = 0;
        foreach (FileSlice slice in _layout.MapRange(torrentOffset, destination.Length))
        {
            Span<byte> part = destination.Slice(done, (int)slice.Length);
            long sliceOffset = torrentOffset + done;
            done += part.Length;
            string? path = _paths[slice.FileIndex];
            if (path is null)
            {
                if (ReadsFromKeptCopies(slice.FileIndex)) ReadSkipped(sliceOffset, part);
                else part.Clear();
                continue;
            }
            FileHandleCache.Entry entry = _handles.Acquire(slice.FileIndex, forWrite: false);
            try
            {
                long fileOffset = slice.FileOffset;
                while (!part.IsEmpty)
                {
                    int n = RandomAccess.Read(entry.Handle, part, fileOffset);
                    if (n == 0)
                        throw new StorageException(StorageErrorKind.NotFound, path,
                            $"Cannot read '{path}': the file ends at {fileOffset} bytes but the torrent says it has {_layout.Files[slice.FileIndex].Length}");
                    part = part[n..];
                    fileOffset += n;
                }
            }
            catch (Exception e) when (e is not StorageException and not ObjectDisposedException)
            {
                throw StorageException.From(e, "read", path);
            }
            finally
            {
                _handles.Release(entry);
            }
        }
    }

    /// <summary>True for a skipped (not padding) file whose bytes in straddling pieces are read from their kept copies.</summary>
    private bool ReadsFromKeptCopies(int fileIndex) => _parts is not null && !_layout.Files[fileIndex].IsPadding;

    /// <summary>
    /// Reads bytes of a skipped file: from the kept copy of a straddling piece (a missing copy is
    /// <see cref="StorageErrorKind.NotFound"/>, like a missing file), zeros for pieces wholly inside skipped files.
    /// </summary>
    private void ReadSkipped(long torrentOffset, Span<byte> destination)
    {
        while (!destination.IsEmpty)
        {
            int piece = (int)(torrentOffset / _layout.PieceLength);
            int within = (int)(torrentOffset - _layout.GetPieceOffset(piece));
            int n = (int)Math.Min(destination.Length, _layout.GetPieceSize(piece) - within);
            Span<byte> part = destination[..n];
            if (!_straddles![piece]) part.Clear();
            else if (!_parts!.TryRead(piece, within, part))
                throw new StorageException(StorageErrorKind.NotFound, _parts.Directory,
                    $"Cannot read piece {piece}: its copy in '{_parts.Directory}' is missing (part of it lies in a file that is not downloaded)");
            destination = destination[n..];
            torrentOffset += n;
        }
    }

    // ---------------------------------------------------------------- state of the files

    /// <inheritdoc />
    public void Refresh()
    {
        // Files may have changed behind our back (deleted, replaced): drop idle handles and look at the disk afresh.
        _handles.CloseIdle();
        _parts?.DeleteUnneeded(p => _straddles![p]); // copies of pieces whose files are all selected now, or of another layout
        if (!_readOnly) ThrowOnLinks();
    }

    /// <summary>Before a check of writable storage: a link anywhere below the download folder is a conflict.</summary>
    private void ThrowOnLinks()
    {
        foreach (string? path in _paths)
        {
            if (path is not null && NoFollowFile.FindLink(DownloadDirectory, path) is { } link) throw NoFollowFile.LinkConflict(link);
        }
    }

    /// <summary>
    /// Cuts file <paramref name="fileIndex"/> to the torrent's length for it (bytes past the end are no part of the
    /// torrent and would never be checked). Never for seed-only storage.
    /// </summary>
    public void CutToLength(int fileIndex)
    {
        if (_readOnly) throw new InvalidOperationException("seed-only storage never writes");
        string path = _paths[fileIndex] ?? throw new InvalidOperationException("padding and skipped files are never cut");
        FileHandleCache.Entry entry = _handles.Acquire(fileIndex, forWrite: true);
        try
        {
            RandomAccess.SetLength(entry.Handle, _layout.Files[fileIndex].Length);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw StorageException.From(e, "cut to the torrent's length", path);
        }
        finally
        {
            _handles.Release(entry);
        }
    }

    /// <summary>Closes every handle nobody is using (the torrent is idle: its descriptors go back to the system).</summary>
    public void CloseIdleFiles() => _handles.CloseIdle();

    /// <inheritdoc />
    public ResumeFileState[] InspectFiles()
    {
        var states = new ResumeFileState[_paths.Length];
        for (int i = 0; i < states.Length; i++)
        {
            string? p = _paths[i];
            var info = p is null ? null : new FileInfo(p);
            states[i] = info is { Exists: true } ? new ResumeFileState(info.Length, info.LastWriteTimeUtc.Ticks) : ResumeFileState.Absent;
        }
        return states;
    }

    /// <inheritdoc />
    public bool MayHold(int piece, ResumeFileState[] files)
    {
        if (_parts is not null && _straddles![piece] && !_parts.Exists(piece)) return false;
        foreach (FileSlice s in _layout.MapRange(_layout.GetPieceOffset(piece), _layout.GetPieceSize(piece)))
        {
            if (_paths[s.FileIndex] is null) continue; // padding or skipped: zeros, or the kept copy checked above
            if (files[s.FileIndex].Length < s.FileOffset + s.Length) return false;
        }
        return true;
    }

    /// <inheritdoc />
    /// <remarks>Nothing for seed-only storage; otherwise no link below the download folder is followed (<see cref="NoFollowFile"/>).</remarks>
    public void CreateEmptyFiles()
    {
        if (_readOnly) return;
        for (int i = 0; i < _paths.Length; i++)
        {
            string? path = _paths[i];
            if (path is null || _layout.Files[i].Length != 0) continue;
            using SafeFileHandle h = NoFollowFile.Open(DownloadDirectory, path, create: true, allowWrite: true, out _);
        }
    }

    /// <summary>
    /// The download is complete: execute bits and symbolic links as the torrent's attributes ask (see
    /// <see cref="FinishedFiles"/>). Seed-only storage touches nothing. Returns what could not be done, one line each.
    /// </summary>
    public List<string> FinishFiles() => _readOnly ? [] : FinishedFiles.Apply(DownloadDirectory, _layout, i => _paths[i] is null && _layout.Files[i].SymlinkTarget is null);

    /// <summary>
    /// True when a file was written since its last flush (a write that finished before this call is seen), or a flush
    /// is under way (its files' flags are cleared before their fsync ends).
    /// </summary>
    public bool HasUnflushedWrites
    {
        get
        {
            for (int i = 0; i < _dirty.Length; i++)
                if (Volatile.Read(ref _dirty[i]) != 0) return true;
            // Read after the flags: a flush counts itself before it clears any.
            return Volatile.Read(ref _flushesRunning) != 0;
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// Flushes every file written since its last flush, including files whose handle was closed meanwhile (closing a
    /// handle does not flush it), reopening them if need be; throws the first failure.
    /// </remarks>
    public void Flush()
    {
        Interlocked.Increment(ref _flushesRunning);
        try
        {
            FlushDirtyFiles();
        }
        finally
        {
            Interlocked.Decrement(ref _flushesRunning);
        }
    }

    private void FlushDirtyFiles()
    {
        Exception? first = null;
        for (int i = 0; i < _dirty.Length; i++)
        {
            if (Volatile.Read(ref _dirty[i]) == 0 || Interlocked.Exchange(ref _dirty[i], 0) == 0) continue;
            string? path = _paths[i];
            if (path is null) continue;
            FileHandleCache.Entry entry;
            try
            {
                entry = _handles.Acquire(i, forWrite: false);
            }
            catch (StorageException e) when (e.Kind == StorageErrorKind.NotFound)
            {
                continue; // deleted behind our back: nothing of it to make durable
            }
            catch (Exception e)
            {
                Interlocked.Exchange(ref _dirty[i], 1);
                first ??= e is ObjectDisposedException ? e : StorageException.From(e, "open for flushing", path);
                continue;
            }
            try
            {
                RandomAccess.FlushToDisk(entry.Handle);
            }
            catch (Exception e)
            {
                Interlocked.Exchange(ref _dirty[i], 1);
                first ??= StorageException.From(e, "flush", path);
            }
            finally
            {
                _handles.Release(entry);
            }
        }
        if (first is not null) throw first;
    }

    /// <summary>Closes the file handles (a handle in use is closed when its job ends).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _handles.Dispose();
    }

    // ---------------------------------------------------------------- skipped files

    /// <summary>Pieces that touch a skipped file and a selected (non-padding) one: the ones whose copy is kept.</summary>
    private static bool[] StraddlingPieces(StorageLayout layout, string?[] paths, bool[] touchesSkipped)
    {
        var straddles = new bool[layout.PieceCount];
        for (int f = 0; f < paths.Length; f++)
        {
            if (paths[f] is null || layout.Files[f].Length == 0) continue; // skipped or padding
            long start = layout.GetFileOffset(f);
            long end = start + layout.Files[f].Length - 1;
            int first = (int)(start / layout.PieceLength), last = (int)(end / layout.PieceLength);
            if (touchesSkipped[first]) straddles[first] = true;
            if (touchesSkipped[last]) straddles[last] = true;
        }
        return straddles;
    }

    private static bool[]? PiecesTouching(StorageLayout layout, IReadOnlySet<int>? skipped)
    {
        if (skipped is null || skipped.Count == 0) return null;
        var touches = new bool[layout.PieceCount];
        foreach (int index in skipped)
        {
            // Padding is zeros by definition, never written and read back as zeros: skipping it changes nothing.
            if ((uint)index >= (uint)layout.Files.Count || layout.Files[index].Length == 0 || layout.Files[index].IsPadding) continue;
            long start = layout.GetFileOffset(index);
            long end = start + layout.Files[index].Length - 1;
            for (long p = start / layout.PieceLength; p <= end / layout.PieceLength; p++) touches[p] = true;
        }
        return touches;
    }
}
