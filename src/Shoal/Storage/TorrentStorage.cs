using System.Buffers;
using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;

namespace Shoal.Storage;

/// <summary>
/// The files of one torrent on disk: block writes with incremental SHA-1 verification, block reads across
/// file boundaries, and a check of existing data. All file I/O and hashing run on the shared
/// <see cref="DiskService"/>; the methods themselves only do short in-memory bookkeeping on the caller's thread.
/// </summary>
/// <remarks>
/// <para><b>Write path.</b> A block is written to disk as soon as a worker picks it up (no write-back cache), so
/// memory use does not depend on how slowly pieces complete. Each in-progress piece keeps a running SHA-1 and
/// the length of its contiguous hashed prefix. A block that starts at that prefix is hashed straight from the
/// caller's memory; a block that arrives early is copied into a pooled buffer and hashed when the gap before
/// it fills. Those copies are bounded per torrent by <see cref="StorageOptions.WriteCacheBudget"/>; past the
/// budget an early block is only written, and read back from disk when its turn comes (slower, but bounded).</para>
/// <para><b>Concurrency.</b> Several writes of one piece may be in flight at once. Per-piece bookkeeping is
/// guarded by a short lock on the piece's state (never held across I/O or hashing), and one worker at a time
/// "owns" a piece's hash: it keeps hashing whatever contiguous data is ready, so blocks are hashed in order
/// without any worker waiting for another. Each range is accepted once; a repeat gets <see cref="BlockWriteResult.Ignored"/>.</para>
/// <para><b>Errors.</b> A failed write or read-back raises <see cref="StorageException"/> and resets the whole
/// piece (its other blocks are dropped too): the caller should treat the piece as not downloaded. Unverified
/// data is never reported as verified.</para>
/// </remarks>
public sealed class TorrentStorage : IAsyncDisposable
{
    private const int CheckChunkSize = 4 * 1024 * 1024;

    private readonly DiskService _disk;
    private readonly StorageLayout _layout;
    private readonly string?[] _paths; // null for padding files
    private readonly FileHandleCache _handles;
    private readonly PieceState?[] _pieces;
    private readonly int[] _verified; // one bit per piece
    private readonly long _cacheBudget;
    private long _cacheBytes;
    private readonly BoundedObjectPool<WriteJob> _writeJobs;
    private readonly BoundedObjectPool<ReadJob> _readJobs;
    private readonly BoundedObjectPool<PieceWork> _works;
    private int _disposed;

    private TorrentStorage(DiskService disk, StorageLayout layout, string root, string?[] paths, StorageOptions options)
    {
        _disk = disk;
        _layout = layout;
        DownloadDirectory = root;
        _paths = paths;
        _handles = new FileHandleCache(paths, options.MaxOpenFiles);
        _pieces = new PieceState?[layout.PieceCount];
        _verified = new int[(layout.PieceCount + 31) / 32];
        _cacheBudget = Math.Max(0, options.WriteCacheBudget);
        _writeJobs = new BoundedObjectPool<WriteJob>(() => new WriteJob(this), 1024);
        _readJobs = new BoundedObjectPool<ReadJob>(() => new ReadJob(this), 256);
        _works = new BoundedObjectPool<PieceWork>(() => new PieceWork(), 64);
    }

    /// <summary>
    /// Prepares storage for <paramref name="layout"/> under <paramref name="downloadDirectory"/>. Touches no file:
    /// files and folders are created on first write. Throws <see cref="StorageException"/> (kind
    /// <see cref="StorageErrorKind.UnsafePath"/>) when a path is unsafe or two files share a path.
    /// </summary>
    public static TorrentStorage Create(DiskService disk, StorageLayout layout, string downloadDirectory, StorageOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(disk);
        ArgumentNullException.ThrowIfNull(layout);
        string root = StoragePaths.NormalizeRoot(downloadDirectory);
        var paths = new string?[layout.Files.Count];
        var seen = new HashSet<string>(OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal);
        for (int i = 0; i < paths.Length; i++)
        {
            StorageFile f = layout.Files[i];
            string full = StoragePaths.Resolve(root, f.PathSegments); // padding paths are validated too, though never used
            if (f.IsPadding) continue;
            if (!seen.Add(full))
                throw new StorageException(StorageErrorKind.UnsafePath, full, $"Refusing torrent: two files map to the same path '{full}'");
            paths[i] = full;
        }
        return new TorrentStorage(disk, layout, root, paths, options ?? new StorageOptions());
    }

    /// <summary>The layout this storage serves.</summary>
    public StorageLayout Layout => _layout;

    /// <summary>The download folder (full path, ending with a separator).</summary>
    public string DownloadDirectory { get; }

    /// <summary>Full path of file <paramref name="fileIndex"/> on disk, or null for a padding file.</summary>
    public string? GetFilePath(int fileIndex) => _paths[fileIndex];

    /// <summary>Bytes of early blocks currently held in memory (see <see cref="StorageOptions.WriteCacheBudget"/>).</summary>
    public long WriteCacheBytes => Interlocked.Read(ref _cacheBytes);

    /// <summary>True when the piece was verified by this storage (a completed write or <see cref="CheckExistingAsync"/>).</summary>
    public bool IsPieceVerified(int piece)
    {
        _layout.GetPieceSize(piece); // range check
        return (Volatile.Read(ref _verified[piece >> 5]) & (1 << (piece & 31))) != 0;
    }

    // ---------------------------------------------------------------- writes

    /// <summary>
    /// Writes one block of a piece and advances the piece's hash. The caller may reuse <paramref name="block"/>
    /// as soon as the returned task completes. Several writes (of the same piece too) may be outstanding at once.
    /// Returns <see cref="BlockWriteResult.PieceVerified"/> or <see cref="BlockWriteResult.PieceFailed"/> to the
    /// one write that completed the piece. Throws <see cref="StorageException"/> when the disk fails; the piece is
    /// then reset. Cancellation is honoured only before the write is queued: once accepted, a block is written.
    /// </summary>
    public ValueTask<BlockWriteResult> WriteBlockAsync(int piece, int offset, ReadOnlyMemory<byte> block, CancellationToken ct = default)
    {
        int size = _layout.GetPieceSize(piece);
        if (offset < 0 || block.Length == 0 || offset > size - block.Length)
            throw new ArgumentOutOfRangeException(nameof(offset), $"block [{offset}, +{block.Length}) is outside piece {piece} of {size} bytes");
        if (ct.IsCancellationRequested) return ValueTask.FromCanceled<BlockWriteResult>(ct);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

        PieceState st = GetState(piece);
        int end = offset + block.Length;
        int generation;
        lock (st)
        {
            if (IsVerifiedBit(piece)) return new(BlockWriteResult.Ignored);
            PieceWork work = st.Work ??= _works.Rent();
            switch (work.Coverage(offset, end))
            {
                case 1:
                    return new(BlockWriteResult.Ignored);
                case 2:
                    List<(int Start, int End)> gaps = work.Gaps(offset, end);
                    foreach ((int s, int e) in gaps) work.AddReceived(s, e);
                    return WriteGapsAsync(st, piece, offset, block, gaps, st.Generation);
            }
            work.AddReceived(offset, end);
            generation = st.Generation;
        }
        return PostWrite(st, piece, offset, block, generation);
    }

    private ValueTask<BlockWriteResult> PostWrite(PieceState st, int piece, int offset, ReadOnlyMemory<byte> data, int generation)
    {
        WriteJob job = _writeJobs.Rent();
        job.State = st;
        job.Piece = piece;
        job.Offset = offset;
        job.Data = data;
        job.Generation = generation;
        short version = job.Version;
        _disk.Post(job);
        return new ValueTask<BlockWriteResult>(job, version);
    }

    // Rare path: a block that partly overlaps data already received (odd block sizes from a peer). Only the
    // missing parts are written, each as its own block.
    private async ValueTask<BlockWriteResult> WriteGapsAsync(PieceState st, int piece, int offset, ReadOnlyMemory<byte> block,
        List<(int Start, int End)> gaps, int generation)
    {
        var tasks = new List<Task<BlockWriteResult>>(gaps.Count);
        foreach ((int s, int e) in gaps)
            tasks.Add(PostWrite(st, piece, s, block.Slice(s - offset, e - s), generation).AsTask());
        BlockWriteResult[] results = await Task.WhenAll(tasks).ConfigureAwait(false);
        BlockWriteResult combined = BlockWriteResult.Ignored;
        foreach (BlockWriteResult r in results)
        {
            if (r is BlockWriteResult.PieceVerified or BlockWriteResult.PieceFailed) return r;
            if (r == BlockWriteResult.Stored) combined = r;
        }
        return combined;
    }

    /// <summary>Runs on a disk worker: writes the block, then hashes it (and whatever it unblocks) or parks it.</summary>
    internal BlockWriteResult ExecuteWrite(PieceState st, int piece, int offset, ReadOnlyMemory<byte> data, int generation)
    {
        long pieceStart = (long)piece * _layout.PieceLength;
        try
        {
            WriteRange(pieceStart + offset, data.Span);
        }
        catch
        {
            lock (st)
            {
                if (st.Generation == generation) ResetLocked(st);
            }
            throw;
        }

        lock (st)
        {
            if (st.Generation != generation) return BlockWriteResult.Ignored;
            if (st.Hashing || st.HashedPrefix != offset)
            {
                byte[]? copy = null;
                if (TryChargeCache(data.Length))
                {
                    copy = ArrayPool<byte>.Shared.Rent(data.Length);
                    data.Span.CopyTo(copy);
                }
                st.Work!.AddPending(new PendingBlock(offset, data.Length, copy));
                return BlockWriteResult.Stored;
            }
            st.Hashing = true;
        }
        return HashForward(st, piece, generation, data.Span);
    }

    /// <summary>
    /// Called by the worker that took ownership of the piece's hash, with the block at the hashed prefix. Hashes
    /// it, then every parked block that has become contiguous, until a gap or the end of the piece.
    /// </summary>
    private BlockWriteResult HashForward(PieceState st, int piece, int generation, ReadOnlySpan<byte> firstChunk)
    {
        int size = _layout.GetPieceSize(piece);
        long pieceStart = (long)piece * _layout.PieceLength;
        IncrementalHash hash;
        lock (st) hash = st.Work!.Hash ??= IncrementalHash.CreateHash(HashAlgorithmName.SHA1);

        ReadOnlySpan<byte> chunk = firstChunk;
        byte[]? rented = null;
        int charged = 0; // bytes of the budget the current buffer holds
        Span<byte> digest = stackalloc byte[StorageLayout.HashSize];
        try
        {
            while (true)
            {
                hash.AppendData(chunk);
                int hashedLength = chunk.Length;
                chunk = default;
                ReturnBuffer(ref rented, ref charged);

                PendingBlock next = default;
                bool complete = false;
                lock (st)
                {
                    if (st.Generation != generation)
                    {
                        // Reset while we hashed: what we hashed is stale. Keep ownership and continue with the new generation.
                        ResetHash(hash);
                        generation = st.Generation;
                    }
                    else
                    {
                        st.HashedPrefix += hashedLength;
                        complete = st.HashedPrefix == size;
                    }
                    if (!complete && !TryTakeNextLocked(st, out next))
                    {
                        st.Hashing = false;
                        return BlockWriteResult.Stored;
                    }
                }

                if (complete)
                {
                    hash.TryGetHashAndReset(digest, out _);
                    bool match = digest.SequenceEqual(_layout.GetPieceHash(piece));
                    lock (st)
                    {
                        if (st.Generation == generation)
                        {
                            st.Hashing = false;
                            if (match)
                            {
                                SetVerifiedBit(piece);
                                st.HashedPrefix = 0;
                                ReleaseWorkLocked(st);
                                return BlockWriteResult.PieceVerified;
                            }
                            ResetLocked(st);
                            return BlockWriteResult.PieceFailed;
                        }
                        generation = st.Generation; // reset during finalisation: the hash is already clean
                        if (!TryTakeNextLocked(st, out next))
                        {
                            st.Hashing = false;
                            return BlockWriteResult.Stored;
                        }
                    }
                }

                if (next.Buffer is not null)
                {
                    rented = next.Buffer;
                    charged = next.Length;
                }
                else
                {
                    rented = ArrayPool<byte>.Shared.Rent(next.Length);
                    ReadRange(pieceStart + next.Start, rented.AsSpan(0, next.Length));
                }
                chunk = rented.AsSpan(0, next.Length);
            }
        }
        catch
        {
            ReturnBuffer(ref rented, ref charged);
            lock (st)
            {
                st.Hashing = false;
                ResetLocked(st); // the hash state is unknown now: the whole piece must be downloaded again
            }
            throw;
        }
    }

    private static bool TryTakeNextLocked(PieceState st, out PendingBlock next)
    {
        List<PendingBlock>? pending = st.Work?.Pending;
        if (pending is { Count: > 0 } && pending[0].Start == st.HashedPrefix)
        {
            next = pending[0];
            pending.RemoveAt(0);
            return true;
        }
        next = default;
        return false;
    }

    /// <summary>Drops the partial state of a piece (the caller gave up on it). Verified pieces are left alone.</summary>
    public void ResetPiece(int piece)
    {
        _layout.GetPieceSize(piece); // range check
        PieceState? st = Volatile.Read(ref _pieces[piece]);
        if (st is null) return;
        lock (st) ResetLocked(st);
    }

    private void ResetLocked(PieceState st)
    {
        st.Generation++;
        st.HashedPrefix = 0;
        PieceWork? work = st.Work;
        if (work is null) return;
        foreach (PendingBlock p in work.Pending)
        {
            if (p.Buffer is null) continue;
            ArrayPool<byte>.Shared.Return(p.Buffer);
            Interlocked.Add(ref _cacheBytes, -p.Length);
        }
        work.Pending.Clear();
        work.Received.Clear();
        // A hashing owner still uses the hash; it notices the new generation and resets it itself.
        if (!st.Hashing) ReleaseWorkLocked(st);
    }

    private void ReleaseWorkLocked(PieceState st)
    {
        PieceWork? work = st.Work;
        if (work is null) return;
        st.Work = null;
        work.Pending.Clear();
        work.Received.Clear();
        if (work.Hash is not null) ResetHash(work.Hash);
        _works.Return(work);
    }

    private static void ResetHash(IncrementalHash hash)
    {
        Span<byte> discard = stackalloc byte[StorageLayout.HashSize];
        hash.TryGetHashAndReset(discard, out _);
    }

    private bool TryChargeCache(int bytes)
    {
        if (Interlocked.Add(ref _cacheBytes, bytes) <= _cacheBudget) return true;
        Interlocked.Add(ref _cacheBytes, -bytes);
        return false;
    }

    private void ReturnBuffer(ref byte[]? buffer, ref int charged)
    {
        if (buffer is null) return;
        ArrayPool<byte>.Shared.Return(buffer);
        if (charged != 0) Interlocked.Add(ref _cacheBytes, -charged);
        buffer = null;
        charged = 0;
    }

    private PieceState GetState(int piece)
    {
        PieceState? st = Volatile.Read(ref _pieces[piece]);
        if (st is not null) return st;
        st = new PieceState();
        return Interlocked.CompareExchange(ref _pieces[piece], st, null) ?? st;
    }

    private bool IsVerifiedBit(int piece) => (Volatile.Read(ref _verified[piece >> 5]) & (1 << (piece & 31))) != 0;

    private void SetVerifiedBit(int piece) => Interlocked.Or(ref _verified[piece >> 5], 1 << (piece & 31));

    private void ClearVerifiedBit(int piece) => Interlocked.And(ref _verified[piece >> 5], ~(1 << (piece & 31)));

    // ---------------------------------------------------------------- reads

    /// <summary>
    /// Reads <paramref name="destination"/>.Length bytes of a piece starting at <paramref name="offset"/>, across
    /// file boundaries (padding reads as zeros). Fills the destination fully or throws <see cref="StorageException"/>
    /// (for instance when a file does not exist yet or is too short).
    /// </summary>
    public ValueTask ReadBlockAsync(int piece, int offset, Memory<byte> destination, CancellationToken ct = default)
    {
        int size = _layout.GetPieceSize(piece);
        if (offset < 0 || destination.Length == 0 || offset > size - destination.Length)
            throw new ArgumentOutOfRangeException(nameof(offset), $"block [{offset}, +{destination.Length}) is outside piece {piece} of {size} bytes");
        if (ct.IsCancellationRequested) return ValueTask.FromCanceled(ct);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        ReadJob job = _readJobs.Rent();
        job.TorrentOffset = (long)piece * _layout.PieceLength + offset;
        job.Destination = destination;
        job.CancellationToken = ct;
        short version = job.Version;
        _disk.Post(job);
        return new ValueTask(job, version);
    }

    /// <summary>Reads a torrent byte range synchronously (disk workers only).</summary>
    internal void ReadRange(long torrentOffset, Span<byte> destination)
    {
        int done = 0;
        foreach (FileSlice slice in _layout.MapRange(torrentOffset, destination.Length))
        {
            Span<byte> part = destination.Slice(done, (int)slice.Length);
            done += part.Length;
            string? path = _paths[slice.FileIndex];
            if (path is null)
            {
                part.Clear();
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

    private void WriteRange(long torrentOffset, ReadOnlySpan<byte> source)
    {
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
                RandomAccess.Write(entry.Handle, part, slice.FileOffset);
            }
            catch (Exception e) when (e is not ObjectDisposedException)
            {
                throw StorageException.From(e, "write", path);
            }
            finally
            {
                _handles.Release(entry);
            }
        }
    }

    // ---------------------------------------------------------------- check

    /// <summary>
    /// Hashes the existing data of every piece whose files exist and are long enough; pieces touching a missing
    /// or short file are reported missing without reading. Runs up to <see cref="DiskService.Concurrency"/>
    /// batches of pieces at once with large reads. Reports the running number of checked pieces to
    /// <paramref name="checkedPieces"/>. Updates <see cref="IsPieceVerified"/> (call it before writing).
    /// </summary>
    public async Task<BitField> CheckExistingAsync(IProgress<int>? checkedPieces = null, CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        int pieceCount = _layout.PieceCount;
        var result = new BitField(pieceCount);
        if (pieceCount == 0) return result;

        // Files may have changed behind our back (deleted, replaced): drop idle handles and look at the disk afresh.
        long[] sizes = await _disk.RunAsync(() =>
        {
            _handles.CloseIdle();
            var s = new long[_paths.Length];
            for (int i = 0; i < s.Length; i++)
            {
                string? p = _paths[i];
                if (p is null) { s[i] = long.MaxValue; continue; }
                var info = new FileInfo(p);
                s[i] = info.Exists ? info.Length : -1;
            }
            return s;
        }, ct).ConfigureAwait(false);

        var ok = new bool[pieceCount];
        int piecesPerBatch = Math.Max(1, CheckChunkSize / _layout.PieceLength);
        int batches = (int)(((long)pieceCount + piecesPerBatch - 1) / piecesPerBatch);
        int nextBatch = -1;
        int done = 0;

        async Task LaneAsync()
        {
            int b;
            while ((b = Interlocked.Increment(ref nextBatch)) < batches)
            {
                ct.ThrowIfCancellationRequested();
                int first = b * piecesPerBatch;
                int count = Math.Min(piecesPerBatch, pieceCount - first);
                await _disk.RunAsync(() => { CheckBatch(first, count, sizes, ok, ct); return true; }, ct).ConfigureAwait(false);
                checkedPieces?.Report(Interlocked.Add(ref done, count));
            }
        }

        var lanes = new Task[Math.Min(_disk.Concurrency, batches)];
        for (int i = 0; i < lanes.Length; i++) lanes[i] = LaneAsync();
        await Task.WhenAll(lanes).ConfigureAwait(false);

        for (int p = 0; p < pieceCount; p++)
        {
            result[p] = ok[p];
            PieceState? st = Volatile.Read(ref _pieces[p]);
            if (st is null)
            {
                if (ok[p]) SetVerifiedBit(p); else ClearVerifiedBit(p);
                continue;
            }
            lock (st)
            {
                if (ok[p]) { ResetLocked(st); SetVerifiedBit(p); }
                else ClearVerifiedBit(p);
            }
        }
        return result;
    }

    private bool PieceOnDisk(int piece, long[] sizes)
    {
        foreach (FileSlice s in _layout.MapRange(_layout.GetPieceOffset(piece), _layout.GetPieceSize(piece)))
            if (sizes[s.FileIndex] < s.FileOffset + s.Length) return false;
        return true;
    }

    private void CheckBatch(int first, int count, long[] sizes, bool[] ok, CancellationToken ct)
    {
        int end = first + count;
        Span<byte> digest = stackalloc byte[StorageLayout.HashSize];
        int pieceLength = _layout.PieceLength;
        byte[] buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(CheckChunkSize, (long)count * pieceLength));
        try
        {
            if (pieceLength > CheckChunkSize)
            {
                // One big piece: stream it through an incremental hash in chunk-sized reads.
                for (int p = first; p < end; p++)
                {
                    if (!PieceOnDisk(p, sizes)) continue;
                    using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
                    long offset = _layout.GetPieceOffset(p);
                    int size = _layout.GetPieceSize(p);
                    for (int pos = 0; pos < size;)
                    {
                        ct.ThrowIfCancellationRequested();
                        int n = Math.Min(CheckChunkSize, size - pos);
                        if (!TryReadForCheck(offset + pos, buffer.AsSpan(0, n))) goto nextPiece;
                        hash.AppendData(buffer.AsSpan(0, n));
                        pos += n;
                    }
                    hash.TryGetHashAndReset(digest, out _);
                    ok[p] = digest.SequenceEqual(_layout.GetPieceHash(p));
                nextPiece:;
                }
                return;
            }

            // Small pieces: read runs of consecutive present pieces in one go, then hash each piece.
            for (int p = first; p < end;)
            {
                ct.ThrowIfCancellationRequested();
                if (!PieceOnDisk(p, sizes)) { p++; continue; }
                int q = p + 1;
                while (q < end && PieceOnDisk(q, sizes)) q++;
                long start = _layout.GetPieceOffset(p);
                int length = (int)(_layout.GetPieceOffset(q - 1) + _layout.GetPieceSize(q - 1) - start);
                if (TryReadForCheck(start, buffer.AsSpan(0, length)))
                {
                    for (int i = p; i < q; i++)
                    {
                        int at = (int)(_layout.GetPieceOffset(i) - start);
                        SHA1.HashData(buffer.AsSpan(at, _layout.GetPieceSize(i)), digest);
                        ok[i] = digest.SequenceEqual(_layout.GetPieceHash(i));
                    }
                }
                p = q;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    // A file that vanished or shrank since we looked just means "not there"; other errors are real and surface.
    private bool TryReadForCheck(long offset, Span<byte> destination)
    {
        try
        {
            ReadRange(offset, destination);
            return true;
        }
        catch (StorageException e) when (e.Kind == StorageErrorKind.NotFound)
        {
            return false;
        }
    }

    // ---------------------------------------------------------------- files, flush, dispose

    /// <summary>Creates the zero-length files of the torrent (no block ever writes them); call when the download completes.</summary>
    public Task CreateEmptyFilesAsync(CancellationToken ct = default) =>
        _disk.RunAsync(() =>
        {
            for (int i = 0; i < _paths.Length; i++)
            {
                string? path = _paths[i];
                if (path is null || _layout.Files[i].Length != 0) continue;
                try
                {
                    string? dir = Path.GetDirectoryName(path);
                    if (dir is not null) Directory.CreateDirectory(dir);
                    using SafeFileHandle h = File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
                }
                catch (Exception e)
                {
                    throw StorageException.From(e, "create", path);
                }
            }
            return true;
        }, ct);

    /// <summary>Flushes written data of every open file to the device.</summary>
    public Task FlushAsync() => _disk.RunAsync(() => { _handles.FlushAll(); return true; }, CancellationToken.None);

    /// <summary>Drops in-memory partial pieces and closes file handles (a handle in use is closed when its job ends).</summary>
    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return ValueTask.CompletedTask;
        foreach (PieceState? st in _pieces)
        {
            if (st is null) continue;
            lock (st) ResetLocked(st);
        }
        _handles.Dispose();
        return ValueTask.CompletedTask;
    }

    internal void ReturnJob(WriteJob job) => _writeJobs.Return(job);

    internal void ReturnJob(ReadJob job) => _readJobs.Return(job);
}
