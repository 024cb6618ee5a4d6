using System.Buffers;
using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;
using Shoal.Metainfo;

namespace Shoal.Storage;

/// <summary>
/// The files of one torrent on disk: block writes with incremental SHA-1 verification, block reads across
/// file boundaries, and a check of existing data. File I/O runs on the shared <see cref="DiskService"/>; see
/// <see cref="WriteBlockAsync"/> for the CPU work (copy, hash) a write does on the caller's thread.
/// </summary>
/// <remarks>
/// <para><b>Write path: whole-piece coalescing (buffered mode).</b> When the first block of a piece arrives and
/// <see cref="StorageOptions.WriteCacheBudget"/> has room for the whole piece, a piece-sized buffer is rented from
/// <see cref="ArrayPool{T}.Shared"/> and charged to the budget. Blocks are copied into it; the contiguous prefix is
/// hashed incrementally as blocks extend it (blocks that arrive early are hashed from the buffer when the gap
/// before them fills, never read back, never hashed twice). When the last byte is hashed and the digest matches,
/// the piece is written straight from the buffer, file by file, in positional writes of up to 128 KiB (see
/// <c>MaxWriteChunk</c>: 8 writes per MiB instead of 64), and only then is
/// <see cref="BlockWriteResult.PieceVerified"/> returned. A piece that fails its hash is never written. This is a
/// feature: unverified bytes never reach the files on this path, so a crash cannot leave unverified data that
/// looks like content, and a few large pwrites replace one per 16 KiB block.</para>
/// <para><b>Write path: direct mode (fallback).</b> When the budget cannot hold the piece (too many pieces in
/// progress, or a piece larger than the budget), the piece is written block by block as each block arrives, on a
/// disk worker, keeping a running SHA-1 of the contiguous prefix; an early block is copied (budget permitting) or
/// read back from disk when its turn comes. Memory stays bounded, at the price of per-block writes, and
/// unverified blocks of such a piece are on disk until the piece verifies or is downloaded again.</para>
/// <para><b>Concurrency.</b> Several writes of one piece may be in flight at once. Per-piece bookkeeping is
/// guarded by a short lock on the piece's state (never held across I/O or hashing; at most one block copy), and
/// one thread at a time "owns" a piece's hash: it keeps hashing whatever contiguous data is ready, so blocks are
/// hashed in order without anyone waiting for anyone. Each range is accepted once; a repeat gets
/// <see cref="BlockWriteResult.Ignored"/>.</para>
/// <para><b>Errors.</b> A failed write or read-back raises <see cref="StorageException"/> and resets the whole
/// piece (its other blocks are dropped too): the caller should treat the piece as not downloaded. Unverified
/// data is never reported as verified.</para>
/// </remarks>
public sealed partial class TorrentStorage : IAsyncDisposable
{
    private const int CheckChunkSize = 4 * 1024 * 1024;

    // Largest single positional write. Measured on Linux 6.18 / ext4 in a VM: 1 MiB pwrites into the page cache
    // ran at 0.2-0.45 GB/s (the kernel's copy into freshly allocated large folios dominates), 512 KiB and 256 KiB
    // varied between 0.75 and 4.5 GB/s, while 16-128 KiB were steadily 2.8-3.6 GB/s. So a 1 MiB piece becomes 8 writes
    // of 128 KiB: the per-syscall cost is negligible at that size and the slow large-folio path is avoided.
    private const int MaxWriteChunk = 128 * 1024;

    /// <summary>Bytes written to one file between two starts of its write-back (see <see cref="LinuxFileIo.StartWriteback"/>).</summary>
    private const long WritebackStride = 8L * 1024 * 1024;

    private readonly DiskService _disk;
    private readonly StorageLayout _layout;
    private readonly string?[] _paths; // null for padding files
    private readonly FileHandleCache _handles;
    private readonly PieceState?[] _pieces;
    private readonly int[] _verified; // one bit per piece
    private readonly int[] _dirty; // per file: 1 when written since its last fsync (set after the write, cleared before the fsync)
    private readonly long[] _unsyncedBytes; // per file: bytes written since write-back was last started
    private readonly object[] _writeGates; // striped by file index: one buffered writer per file at a time (see WriteRange)
    private readonly long _cacheBudget;
    private readonly bool[]? _touchesSkippedFile; // per piece; null when no file is skipped
    private readonly bool[]? _straddles; // per piece: touches a skipped file and a selected one; set with _parts
    private readonly PieceParts? _parts; // copies of straddling pieces; null when not kept
    private readonly RecentWrites? _recentWrites; // null: written data stays in the OS page cache (OsCacheWindow null)

    /// <summary>Smart ban: SHA-1 of each 16 KiB block of a buffered piece's last failed attempt (bounded).</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<int, byte[][]> _failedBlockDigests = new();

    /// <summary>Smart ban: blocks of a piece whose failed attempt differed from the data that then verified.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<int, int[]> _corruptBlocks = new();

    /// <summary>Most failed pieces whose block digests are kept; beyond it new failures are not recorded.</summary>
    private const int MaxFailedPiecesTracked = 256;

    /// <summary>The block size smart-ban digests are taken at (the request size every client uses).</summary>
    public const int DigestBlockLength = 16 * 1024;
    private long _cacheBytes;
    private readonly BoundedObjectPool<WriteJob> _writeJobs;
    private readonly BoundedObjectPool<ReadJob> _readJobs;
    private readonly BoundedObjectPool<PieceWork> _works;
    private int _disposed;
    private readonly bool _readOnly;

    private TorrentStorage(DiskService disk, StorageLayout layout, string root, string?[] paths, StorageOptions options)
    {
        _disk = disk;
        _layout = layout;
        DownloadDirectory = root;
        _paths = paths;
        _readOnly = options.ReadOnly;
        _handles = new FileHandleCache(root, paths, options.MaxOpenFiles, options.ReadOnly);
        _pieces = new PieceState?[layout.PieceCount];
        _verified = new int[(layout.PieceCount + 31) / 32];
        _dirty = new int[paths.Length];
        _unsyncedBytes = new long[paths.Length];
        _writeGates = new object[Math.Clamp(paths.Length, 1, 16)];
        for (int i = 0; i < _writeGates.Length; i++) _writeGates[i] = new object();
        _cacheBudget = Math.Max(0, options.WriteCacheBudget);
        _touchesSkippedFile = PiecesTouching(layout, options.SkippedFiles);
        if (options.PartsDirectory is { } parts && !options.ReadOnly)
        {
            // Kept even when nothing is skipped now: the start-up check deletes copies an earlier selection left.
            _parts = new PieceParts(Path.GetFullPath(parts), layout);
            _straddles = _touchesSkippedFile is null ? new bool[layout.PieceCount] : StraddlingPieces(layout, paths, _touchesSkippedFile);
        }
        if (options.OsCacheWindow is { } window && LinuxFileIo.CanDropCached) _recentWrites = new RecentWrites(Math.Max(0, window));
        _writeJobs = new BoundedObjectPool<WriteJob>(() => new WriteJob(this), 1024);
        _readJobs = new BoundedObjectPool<ReadJob>(() => new ReadJob(this), 256);
        _works = new BoundedObjectPool<PieceWork>(() => new PieceWork(), 64);
    }

    /// <summary>
    /// Prepares storage for <paramref name="layout"/> under <paramref name="downloadDirectory"/>. Touches no file:
    /// files and folders are created on first write. Throws <see cref="StorageException"/> (kind
    /// <see cref="StorageErrorKind.UnsafePath"/>) when a path is unsafe or two files share a path, and (kind
    /// <see cref="StorageErrorKind.NameTooLong"/>) when a name or path is longer than the folder's file system allows.
    /// </summary>
    public static TorrentStorage Create(DiskService disk, StorageLayout layout, string downloadDirectory, StorageOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(disk);
        ArgumentNullException.ThrowIfNull(layout);
        string root = StoragePaths.NormalizeRoot(downloadDirectory);
        FileSystemLimits limits = FileSystemLimits.For(root);
        var paths = new string?[layout.Files.Count];
        var seen = new HashSet<string>(OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal);
        for (int i = 0; i < paths.Length; i++)
        {
            StorageFile f = layout.Files[i];
            bool unused = f.IsPadding || options?.SkippedFiles?.Contains(i) == true;
            // Padding and skipped files are validated too, though never written; only files written must fit the file system.
            string full = StoragePaths.Resolve(root, f.PathSegments, unused ? null : limits);
            if (unused) continue;
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

    /// <summary>
    /// Bytes currently charged to the write cache: piece buffers of buffered pieces (their full piece size from the
    /// first block on) plus early blocks of direct-mode pieces. Never above <see cref="StorageOptions.WriteCacheBudget"/>;
    /// back to zero when no piece is in progress.
    /// </summary>
    public long WriteCacheBytes => Interlocked.Read(ref _cacheBytes);

    /// <summary>True when the piece was verified by this storage (a completed write or <see cref="CheckExistingAsync(ResumeData?, IProgress{int}?, CancellationToken)"/>, trusted or hashed).</summary>
    public bool IsPieceVerified(int piece)
    {
        _layout.GetPieceSize(piece); // range check
        return (Volatile.Read(ref _verified[piece >> 5]) & (1 << (piece & 31))) != 0;
    }

    // ---------------------------------------------------------------- writes

    /// <summary>
    /// Accepts one block of a piece and advances the piece's hash. Returns <see cref="BlockWriteResult.PieceVerified"/>
    /// or <see cref="BlockWriteResult.PieceFailed"/> to the one write that completed the piece (PieceVerified only
    /// once the whole piece is written, i.e. in the OS cache). Several writes (of the same piece too) may be
    /// outstanding at once. The caller may reuse <paramref name="block"/> as soon as the returned task completes.
    /// Throws <see cref="StorageException"/> when the disk fails; the piece is then reset. Cancellation is honoured
    /// only before the block is accepted: once accepted, it counts.
    /// </summary>
    /// <remarks>
    /// <para><b>Threading contract.</b> For a buffered piece (the usual case, see the class remarks) this method
    /// does CPU work on the calling thread: it copies the block into the piece buffer (one memcpy) and SHA-1
    /// hashes whatever contiguous data that makes available - normally just this block, but up to the whole piece
    /// when blocks arrived in reverse order and this one fills the gap (about 1-2 ms per MiB). Such a call
    /// completes synchronously without allocating. It never blocks on I/O: only the final write of a verified piece
    /// goes to the <see cref="DiskService"/>, and that call completes asynchronously once the piece is written.
    /// It may briefly wait on the piece's lock (held for at most one block copy). So do not call it from an actor
    /// or network loop; a dedicated write pump is the intended caller. Direct-mode pieces (budget exhausted)
    /// behave as before: every block is written and hashed on a disk worker.</para>
    /// </remarks>
    public ValueTask<BlockWriteResult> WriteBlockAsync(int piece, int offset, ReadOnlyMemory<byte> block, CancellationToken ct = default)
    {
        if (_readOnly) throw new InvalidOperationException("seed-only storage never writes");
        int size = _layout.GetPieceSize(piece);
        if (offset < 0 || block.Length == 0 || offset > size - block.Length)
            throw new ArgumentOutOfRangeException(nameof(offset), $"block [{offset}, +{block.Length}) is outside piece {piece} of {size} bytes");
        if (ct.IsCancellationRequested) return ValueTask.FromCanceled<BlockWriteResult>(ct);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        ObjectDisposedException.ThrowIf(_disk.IsDisposed, _disk);

        PieceState st = GetState(piece);
        int end = offset + block.Length;
        int generation;
        bool direct = false;
        lock (st)
        {
            if (IsVerifiedBit(piece)) return new(BlockWriteResult.Ignored);
            PieceWork work = st.Work ??= CreateWork(piece, size);
            int coverage = work.Coverage(offset, end);
            if (coverage == 1) return new(BlockWriteResult.Ignored);
            generation = st.Generation;
            if (work.Buffer is null)
            {
                // Direct mode: every block goes to a disk worker, as it arrives.
                if (coverage == 2)
                {
                    List<(int Start, int End)> gaps = work.Gaps(offset, end);
                    foreach ((int s, int e) in gaps) work.AddReceived(s, e);
                    return WriteGapsAsync(st, piece, offset, block, gaps, generation);
                }
                work.AddReceived(offset, end);
                direct = true;
            }
            else
            {
                // Buffered mode. The copy happens under the lock so a concurrent reset can never hand the buffer
                // back to the pool while we write into it.
                if (coverage == 2)
                {
                    foreach ((int s, int e) in work.Gaps(offset, end)) // rare: odd block sizes from a peer
                    {
                        block.Span.Slice(s - offset, e - s).CopyTo(work.Buffer.AsSpan(s));
                        work.AddReceived(s, e);
                    }
                }
                else
                {
                    block.Span.CopyTo(work.Buffer.AsSpan(offset));
                    work.AddReceived(offset, end);
                }
                // Someone already hashes this piece (they will pick our bytes up), or our bytes are not contiguous yet.
                if (st.Hashing || work.ContiguousEnd() <= st.HashedPrefix) return new(BlockWriteResult.Stored);
                st.Hashing = true;
            }
        }
        return direct ? PostWrite(st, piece, offset, block, generation) : HashBuffered(st, piece, generation);
    }

    /// <summary>
    /// Smart ban: after <paramref name="piece"/> failed its hash check and then verified, the indices of the
    /// <see cref="DigestBlockLength"/> blocks whose failed copy differed from the verified data (the blocks a
    /// lying peer sent). Null when unknown (the failed attempt was written block by block, or nothing failed).
    /// Each result is given out once.
    /// </summary>
    public int[]? TakeCorruptBlocks(int piece) => _corruptBlocks.TryRemove(piece, out int[]? blocks) ? blocks : null;

    /// <summary>True when a failed attempt of <paramref name="piece"/> was recorded, so a verified retry will name the bad blocks.</summary>
    public bool CanIdentifyCorruptBlocks(int piece) => _failedBlockDigests.ContainsKey(piece);

    private static byte[][] BlockDigests(ReadOnlySpan<byte> piece)
    {
        var digests = new byte[(piece.Length + DigestBlockLength - 1) / DigestBlockLength][];
        for (int i = 0; i < digests.Length; i++)
        {
            ReadOnlySpan<byte> block = piece.Slice(i * DigestBlockLength, Math.Min(DigestBlockLength, piece.Length - i * DigestBlockLength));
            digests[i] = System.Security.Cryptography.SHA1.HashData(block);
        }
        return digests;
    }

    private static int[] DifferingBlocks(byte[][] failed, ReadOnlySpan<byte> verified)
    {
        byte[][] good = BlockDigests(verified);
        var differing = new List<int>();
        for (int i = 0; i < good.Length && i < failed.Length; i++)
            if (!good[i].AsSpan().SequenceEqual(failed[i])) differing.Add(i);
        return [.. differing];
    }

    /// <summary>True when part of <paramref name="piece"/> lies in a skipped file: that part is never in the files.</summary>
    public bool TouchesSkippedFile(int piece) => _touchesSkippedFile?[piece] == true;

    /// <summary>
    /// True when every byte of <paramref name="piece"/> can be read back once it is verified: it touches no skipped
    /// file, or its copy is kept (<see cref="StorageOptions.PartsDirectory"/>). Only such pieces may be uploaded.
    /// </summary>
    public bool IsWhollyStored(int piece) => !TouchesSkippedFile(piece) || (_parts is not null && _straddles![piece]);

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

    private PieceWork CreateWork(int piece, int pieceSize)
    {
        PieceWork work = _works.Rent();
        if (TouchesSkippedFile(piece))
        {
            // Over budget if need be: block by block, the skipped part would have to be read back from a file
            // that is never written, and the piece could never verify.
            Interlocked.Add(ref _cacheBytes, pieceSize);
            work.Buffer = ArrayPool<byte>.Shared.Rent(pieceSize);
            work.BufferCharge = pieceSize;
        }
        else if (pieceSize <= _cacheBudget && TryChargeCache(pieceSize))
        {
            work.Buffer = ArrayPool<byte>.Shared.Rent(pieceSize);
            work.BufferCharge = pieceSize;
        }
        return work;
    }

    /// <summary>
    /// Buffered mode, on the caller's thread, as the owner of the piece's hash: hashes the buffer from the hashed
    /// prefix up to the end of the contiguous data, again while other writers extend it. When the piece is complete
    /// and matches, hands the buffer to a disk worker for the whole-piece write.
    /// </summary>
    private ValueTask<BlockWriteResult> HashBuffered(PieceState st, int piece, int generation)
    {
        int size = _layout.GetPieceSize(piece);
        PieceWork work;
        int from, to;
        lock (st)
        {
            work = st.Work!; // not released while we own the hash
            work.Hash ??= IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
            from = st.HashedPrefix;
            to = work.ContiguousEnd();
        }
        IncrementalHash hash = work.Hash;
        byte[] buffer = work.Buffer!;
        while (true)
        {
            // Bytes below the contiguous end are never rewritten in this generation. After a reset, new blocks may
            // land in the range we hash; that only spoils a hash we are about to discard.
            hash.AppendData(buffer, from, to - from);
            lock (st)
            {
                if (st.Generation != generation)
                {
                    ResetHash(hash); // the reset set HashedPrefix to 0: start over with the new generation's data
                    generation = st.Generation;
                }
                else
                {
                    st.HashedPrefix = to;
                }
                from = st.HashedPrefix;
                if (from == size)
                {
                    st.Writing = true; // from here on the piece is complete: resets keep away from the buffer
                    break;
                }
                to = work.ContiguousEnd();
                if (to <= from)
                {
                    st.Hashing = false;
                    if (work.Received.Count == 0) ReleaseWorkLocked(st); // reset meanwhile and nothing new came
                    return new(BlockWriteResult.Stored);
                }
            }
        }

        Span<byte> digest = stackalloc byte[StorageLayout.HashSize];
        hash.TryGetHashAndReset(digest, out _);
        if (!digest.SequenceEqual(_layout.GetPieceHash(piece)))
        {
            // Remember what each block looked like, so the verified retry can tell which blocks were bad.
            if (_failedBlockDigests.Count < MaxFailedPiecesTracked) _failedBlockDigests[piece] = BlockDigests(buffer.AsSpan(0, size));
            // Nothing of this piece was written: the buffer goes back to the pool and the piece starts over.
            lock (st)
            {
                st.Writing = false;
                st.Hashing = false;
                ResetLocked(st);
            }
            return new(BlockWriteResult.PieceFailed);
        }

        if (_failedBlockDigests.TryRemove(piece, out byte[][]? failed)) _corruptBlocks[piece] = DifferingBlocks(failed, buffer.AsSpan(0, size));

        WriteJob job = _writeJobs.Rent();
        job.State = st;
        job.Piece = piece;
        job.WholePiece = true;
        job.Data = buffer.AsMemory(0, size);
        short version = job.Version;
        _disk.Post(job);
        return new ValueTask<BlockWriteResult>(job, version);
    }

    /// <summary>Runs on a disk worker: writes a verified buffered piece (a few large positional writes per file it spans), then marks it verified.</summary>
    internal BlockWriteResult ExecutePieceWrite(PieceState st, int piece, ReadOnlyMemory<byte> data)
    {
        try
        {
            WriteRange((long)piece * _layout.PieceLength, data.Span);
            // The bytes of skipped files exist nowhere else: keep the whole piece, or it cannot be read back.
            if (_parts is not null && _straddles![piece]) _parts.Write(piece, data.Span);
        }
        catch
        {
            FailPieceWrite(st);
            throw;
        }
        lock (st)
        {
            SetVerifiedBit(piece); // before the work goes: any later block sees a verified piece
            st.Writing = false;
            st.Hashing = false;
            st.HashedPrefix = 0;
            ReleaseWorkLocked(st);
        }
        return BlockWriteResult.PieceVerified;
    }

    /// <summary>A whole-piece write failed or was refused: give the buffer back and make the piece downloadable again.</summary>
    internal void FailPieceWrite(PieceState st)
    {
        lock (st)
        {
            st.Writing = false;
            st.Hashing = false;
            ResetLocked(st);
        }
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

    // Rare path (direct mode): a block that partly overlaps data already received (odd block sizes from a peer).
    // Only the missing parts are written, each as its own block.
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

    /// <summary>
    /// Drops the partial state of a piece (the caller gave up on it): its buffer goes back to the pool and its
    /// ranges are accepted again. Verified pieces, and complete pieces whose verified write is in flight, are left alone.
    /// </summary>
    public void ResetPiece(int piece)
    {
        _layout.GetPieceSize(piece); // range check
        PieceState? st = Volatile.Read(ref _pieces[piece]);
        if (st is null) return;
        lock (st) ResetLocked(st);
    }

    private void ResetLocked(PieceState st)
    {
        if (st.Writing) return; // complete and verified, its buffer is being written: nothing partial to drop
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
        if (work.Buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(work.Buffer);
            Interlocked.Add(ref _cacheBytes, -work.BufferCharge);
            work.Buffer = null;
            work.BufferCharge = 0;
        }
        _works.Return(work);
    }

    private static void ResetHash(IncrementalHash hash)
    {
        Span<byte> discard = stackalloc byte[StorageLayout.HashSize];
        hash.TryGetHashAndReset(discard, out _);
    }

    private bool TryChargeCache(int bytes)
    {
        // Compare-and-swap, not add-then-undo: a refused charge must never show, even for an instant, in
        // WriteCacheBytes, which promises never to exceed the budget (a concurrent reader saw 4096 > 0 in a test).
        long current = Interlocked.Read(ref _cacheBytes);
        while (true)
        {
            if (current + bytes > _cacheBudget) return false;
            long seen = Interlocked.CompareExchange(ref _cacheBytes, current + bytes, current);
            if (seen == current) return true;
            current = seen;
        }
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
    /// (for instance when a file does not exist yet or is too short). Allocation-free (pooled job).
    /// </summary>
    /// <remarks>
    /// Reads always come from disk, never from the write cache. That is right for verified pieces, the only ones a
    /// peer should be served. Reading a piece that is not verified returns whatever the disk holds (old bytes,
    /// zeros, or nothing - a <see cref="StorageException"/>), not the blocks received so far: checking
    /// <see cref="IsPieceVerified"/> first is the caller's job.
    /// </remarks>
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

    /// <summary>
    /// Fills <paramref name="destination"/> like <see cref="ReadBlockAsync"/> but only from data already in the
    /// operating system's page cache and only through files already open, on the calling thread, without waiting
    /// for a device. Returns false when any byte would need the disk (or the platform cannot tell); the caller then
    /// uses <see cref="ReadBlockAsync"/>. Safe on network threads: it never blocks on I/O.
    /// </summary>
    public bool TryReadBlockCached(int piece, int offset, Span<byte> destination)
    {
        if (!LinuxFileIo.CanReadCached || Volatile.Read(ref _disposed) != 0) return false;
        int size = _layout.GetPieceSize(piece);
        if (offset < 0 || destination.IsEmpty || offset > size - destination.Length) return false;
        int done = 0;
        foreach (FileSlice slice in _layout.MapRange((long)piece * _layout.PieceLength + offset, destination.Length))
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
                if (!LinuxFileIo.TryReadCached(entry.Handle, part, slice.FileOffset)) return false;
            }
            finally
            {
                _handles.Release(entry);
            }
        }
        return true;
    }

    /// <summary>Reads a torrent byte range synchronously (disk workers only).</summary>
    internal void ReadRange(long torrentOffset, Span<byte> destination)
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
                    LinuxFileIo.StartWriteback(entry.Handle);
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
            if (_recentWrites is not null) DropOutsideOsCacheWindow(slice);
        }
    }

    /// <summary>
    /// Records a written slice in the OS cache window and drops from the page cache what thereby fell out of it
    /// (see <see cref="StorageOptions.OsCacheWindow"/>). Only a hint: a failure here never fails the write.
    /// </summary>
    private void DropOutsideOsCacheWindow(FileSlice written)
    {
        if (_recentWrites!.Record(written.FileIndex, written.FileOffset, written.Length, out FileRange displaced)) DropFromCache(displaced);
        while (_recentWrites.TryTakeExpired(out FileRange expired)) DropFromCache(expired);
    }

    private void DropFromCache(FileRange range)
    {
        // Only through a handle that is still open: opening (or creating) a file just to drop its pages is not
        // worth it, and a closed file's pages are the OS's to evict.
        if (_handles.TryAcquireOpen(range.FileIndex) is not { } entry) return;
        try
        {
            LinuxFileIo.DropFromCache(entry.Handle, range.Offset, range.Length);
        }
        finally
        {
            _handles.Release(entry);
        }
    }

    // ---------------------------------------------------------------- check

    /// <summary>
    /// Hashes the existing data of every piece whose files exist and are long enough; pieces touching a missing
    /// or short file are reported missing without reading. Runs up to <see cref="DiskService.Concurrency"/>
    /// batches of pieces at once with large reads. Reports the running number of checked pieces to
    /// <paramref name="checkedPieces"/>. Updates <see cref="IsPieceVerified"/> (call it before writing).
    /// </summary>
    public Task<BitField> CheckExistingAsync(IProgress<int>? checkedPieces = null, CancellationToken ct = default) =>
        CheckExistingAsync(null, checkedPieces, ct);

    /// <summary>
    /// Like <see cref="CheckExistingAsync(IProgress{int}?, CancellationToken)"/>, but trusts <paramref name="resume"/>:
    /// a piece it records as verified is reported verified without being read when every file the piece touches
    /// still has exactly the length and last-write time recorded. Every other piece is hashed as usual: pieces not
    /// verified in the snapshot (they may have been completed after it), and every piece of a file whose length or
    /// last-write time changed (written after the snapshot, or by someone else). Resume data that does not fit
    /// this storage (see <see cref="DescribeResumeMismatch"/>) is ignored: everything is hashed. A null
    /// <paramref name="resume"/> hashes everything.
    /// </summary>
    /// <remarks>
    /// Trade-off, as in libtorrent's fast resume: a file modified behind our back while keeping its length and its
    /// last-write time (restored by a tool, or a change within the file system's timestamp granularity right after
    /// the snapshot) is not detected; its trusted pieces are served as they are. Bad data cannot spread: peers that
    /// receive it reject it by hash. The engine itself never rewrites a verified piece, so its own later writes only
    /// make pieces unsure, never wrongly trusted.
    /// </remarks>
    public async Task<BitField> CheckExistingAsync(ResumeData? resume, IProgress<int>? checkedPieces, CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        int pieceCount = _layout.PieceCount;
        var result = new BitField(pieceCount);
        if (pieceCount == 0) return result;

        // Files may have changed behind our back (deleted, replaced): drop idle handles and look at the disk afresh.
        (long[] sizes, long[] times) = await _disk.RunAsync(() =>
        {
            _handles.CloseIdle();
            _parts?.DeleteUnneeded(p => _straddles![p]); // copies of pieces whose files are all selected now, or of another layout
            if (!_readOnly) ThrowOnLinks();
            return StatFiles(skippedAsPresent: true);
        }, ct).ConfigureAwait(false);

        bool[]? trusted = resume is not null && DescribeResumeMismatch(resume) is null ? TrustedPieces(resume, sizes, times) : null;
        RememberCheckedFiles(sizes, resume is not null && trusted is not null ? VouchedFiles(resume, sizes, times) : null);

        var ok = new bool[pieceCount];
        if (trusted is not null) Array.Copy(trusted, ok, pieceCount);
        int piecesPerBatch = Math.Max(1, CheckChunkSize / _layout.PieceLength);
        int batches = (int)(((long)pieceCount + piecesPerBatch - 1) / piecesPerBatch);
        int nextBatch = -1;
        int done = 0;

        // Each lane checks one batch at a time on a disk worker, reading and hashing it there; several lanes overlap
        // each other. Pieces larger than a batch are streamed through an incremental hash.
        async Task WorkerLaneAsync()
        {
            int b;
            while ((b = Interlocked.Increment(ref nextBatch)) < batches)
            {
                ct.ThrowIfCancellationRequested();
                int first = b * piecesPerBatch;
                int count = Math.Min(piecesPerBatch, pieceCount - first);
                if (!AllTrusted(trusted, first, count))
                {
                    await _disk.RunAsync(() =>
                    {
                        if (_layout.PieceLength > CheckChunkSize)
                        {
                            CheckLargePieces(first, count, sizes, trusted, ok, ct);
                            return true;
                        }
                        CheckRead read = ReadBatch(first, count, sizes, trusted, ct);
                        try
                        {
                            HashBatch(read, ok);
                        }
                        finally
                        {
                            ArrayPool<byte>.Shared.Return(read.Buffer);
                        }
                        return true;
                    }, ct).ConfigureAwait(false);
                }
                checkedPieces?.Report(Interlocked.Add(ref done, count));
            }
        }

        // With one disk worker (a spinning disk), one lane in two stages instead: the worker reads the next batch
        // while this lane hashes the one before on a pool thread, so reading and hashing still overlap and the disk
        // sees one sequential read at a time (2 GiB in the page cache: 92-104 % of one core's SHA-1 against 77-82 %
        // reading and hashing in turn). With more workers the lanes overlap each other, and the extra hop and buffer
        // of this pipeline cost about 5 %.
        Task<CheckRead>? NextRead()
        {
            int b;
            while ((b = Interlocked.Increment(ref nextBatch)) < batches)
            {
                int first = b * piecesPerBatch;
                int count = Math.Min(piecesPerBatch, pieceCount - first);
                if (!AllTrusted(trusted, first, count)) return _disk.RunAsync(() => ReadBatch(first, count, sizes, trusted, ct), ct);
                checkedPieces?.Report(Interlocked.Add(ref done, count));
            }
            return null;
        }

        async Task PipelinedLaneAsync()
        {
            Task<CheckRead>? pending = NextRead();
            try
            {
                while (pending is not null)
                {
                    CheckRead read = await pending.ConfigureAwait(false);
                    pending = null;
                    try
                    {
                        ct.ThrowIfCancellationRequested();
                        pending = NextRead();
                        HashBatch(read, ok);
                    }
                    finally
                    {
                        ArrayPool<byte>.Shared.Return(read.Buffer);
                    }
                    checkedPieces?.Report(Interlocked.Add(ref done, read.Count));
                }
            }
            finally
            {
                // Stopped by an error or cancellation with a read under way: wait for it, give its buffer back.
                if (pending is not null)
                {
                    try
                    {
                        ArrayPool<byte>.Shared.Return((await pending.ConfigureAwait(false)).Buffer);
                    }
                    catch (Exception e) when (e is OperationCanceledException or StorageException or ObjectDisposedException)
                    {
                    }
                }
            }
        }

        var lanes = new Task[Math.Min(_disk.Concurrency, batches)];
        bool pipeline = _disk.Concurrency == 1 && _layout.PieceLength <= CheckChunkSize;
        for (int i = 0; i < lanes.Length; i++) lanes[i] = pipeline ? PipelinedLaneAsync() : WorkerLaneAsync();
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

    /// <summary>
    /// Null when <paramref name="resume"/> can be used with this storage; otherwise why not (for the log): a different
    /// piece count, piece length or file count means it belongs to another torrent or layout and is ignored.
    /// Does not check the info-hash: <see cref="ResumeFile.TryLoad"/> does.
    /// </summary>
    public string? DescribeResumeMismatch(ResumeData resume)
    {
        ArgumentNullException.ThrowIfNull(resume);
        if (resume.PieceCount != _layout.PieceCount) return $"resume data has {resume.PieceCount} pieces, the torrent {_layout.PieceCount}";
        if (resume.PieceLength != _layout.PieceLength) return $"resume data has piece length {resume.PieceLength}, the torrent {_layout.PieceLength}";
        if (resume.Files.Count != _layout.Files.Count) return $"resume data has {resume.Files.Count} files, the torrent {_layout.Files.Count}";
        return null;
    }

    /// <summary>
    /// Snapshots what can be trusted on the next start, in the only safe order: (1) the set of verified pieces is
    /// taken, (2) every file written since its last flush is flushed to the device (so every piece of the set is
    /// durable, whatever handles were closed meanwhile), (3) each file's length and last-write time are read.
    /// Then save the result with <see cref="ResumeFile.Save"/>. Writes may continue meanwhile: a piece verified
    /// after step 1 is simply not in the snapshot, and a write after step 3 changes its file's last-write time,
    /// so the next check rehashes that file's pieces - slower, never wrong.
    /// </summary>
    /// <remarks>
    /// Files that are skipped (<see cref="StorageOptions.SkippedFiles"/>), padding, or missing are recorded as
    /// <see cref="ResumeFileState.Absent"/>: pieces touching them are never trusted, so selecting a skipped file
    /// later cannot make a piece look complete while part of it was never written. Throws
    /// <see cref="StorageException"/> when a flush fails; then no snapshot must be saved.
    /// </remarks>
    public async Task<ResumeData> CaptureResumeAsync(InfoHash infoHash, CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var verified = new BitField(_layout.PieceCount);
        for (int p = 0; p < verified.Length; p++)
            if (IsVerifiedBit(p)) verified[p] = true;
        long captured = DateTime.UtcNow.Ticks;
        ResumeFileState[] files = await _disk.RunAsync(() =>
        {
            FlushDirtyFiles();
            (long[] sizes, long[] times) = StatFiles(skippedAsPresent: false);
            var states = new ResumeFileState[sizes.Length];
            for (int i = 0; i < states.Length; i++)
                states[i] = sizes[i] < 0 ? ResumeFileState.Absent : new ResumeFileState(sizes[i], times[i]);
            return states;
        }, ct).ConfigureAwait(false);
        return new ResumeData(infoHash, _layout.PieceLength, verified, files, captured);
    }

    /// <summary>
    /// Length and last-write time (UTC ticks) of every file; -1 for a missing file. Padding and skipped files
    /// (no path) are long.MaxValue with <paramref name="skippedAsPresent"/> (the check reads them as zeros), else -1.
    /// </summary>
    private (long[] Sizes, long[] Times) StatFiles(bool skippedAsPresent)
    {
        var sizes = new long[_paths.Length];
        var times = new long[_paths.Length];
        for (int i = 0; i < sizes.Length; i++)
        {
            string? p = _paths[i];
            if (p is null) { sizes[i] = skippedAsPresent ? long.MaxValue : -1; continue; }
            var info = new FileInfo(p);
            if (!info.Exists) { sizes[i] = -1; continue; }
            sizes[i] = info.Length;
            times[i] = info.LastWriteTimeUtc.Ticks;
        }
        return (sizes, times);
    }

    private bool[] TrustedPieces(ResumeData resume, long[] sizes, long[] times)
    {
        var fileOk = new bool[_paths.Length];
        for (int i = 0; i < fileOk.Length; i++)
        {
            ResumeFileState r = resume.Files[i];
            // A skipped file (no path) is never trusted even if it was recorded: its bytes are not ours to vouch for now.
            fileOk[i] = _paths[i] is not null && !r.IsAbsent && sizes[i] == r.Length && times[i] == r.LastWriteUtcTicks;
        }
        var trusted = new bool[_layout.PieceCount];
        for (int p = 0; p < trusted.Length; p++)
        {
            if (!resume.IsVerified(p)) continue;
            bool ok = true;
            foreach (FileSlice s in _layout.MapRange(_layout.GetPieceOffset(p), _layout.GetPieceSize(p)))
            {
                if (_layout.Files[s.FileIndex].IsPadding) continue;
                if (!fileOk[s.FileIndex] || sizes[s.FileIndex] < s.FileOffset + s.Length) { ok = false; break; }
            }
            trusted[p] = ok;
        }
        return trusted;
    }

    private static bool AllTrusted(bool[]? trusted, int first, int count)
    {
        if (trusted is null) return false;
        for (int p = first; p < first + count; p++)
            if (!trusted[p]) return false;
        return true;
    }

    private bool PieceOnDisk(int piece, long[] sizes)
    {
        if (_parts is not null && _straddles![piece] && !_parts.Exists(piece)) return false;
        foreach (FileSlice s in _layout.MapRange(_layout.GetPieceOffset(piece), _layout.GetPieceSize(piece)))
            if (sizes[s.FileIndex] < s.FileOffset + s.Length) return false;
        return true;
    }

    /// <summary>One batch of pieces read for the check: <see cref="Read"/>[i] tells whether piece First + i is in <see cref="Buffer"/>, at its offset from the batch's start.</summary>
    private sealed record CheckRead(int First, int Count, byte[] Buffer, bool[] Read);

    /// <summary>
    /// Disk workers: reads the batch's untrusted pieces whose files are present, in runs of consecutive pieces (one
    /// large read each), into a pooled buffer the caller returns. Pieces of pieceLength &lt;= <see cref="CheckChunkSize"/> only.
    /// </summary>
    private CheckRead ReadBatch(int first, int count, long[] sizes, bool[]? trusted, CancellationToken ct)
    {
        int end = first + count;
        long batchStart = _layout.GetPieceOffset(first);
        byte[] buffer = ArrayPool<byte>.Shared.Rent((int)(_layout.GetPieceOffset(end - 1) + _layout.GetPieceSize(end - 1) - batchStart));
        var read = new bool[count];
        try
        {
            for (int p = first; p < end;)
            {
                ct.ThrowIfCancellationRequested();
                if (trusted?[p] == true || !PieceOnDisk(p, sizes)) { p++; continue; }
                int q = p + 1;
                while (q < end && trusted?[q] != true && PieceOnDisk(q, sizes)) q++;
                long start = _layout.GetPieceOffset(p);
                int length = (int)(_layout.GetPieceOffset(q - 1) + _layout.GetPieceSize(q - 1) - start);
                if (TryReadForCheck(start, buffer.AsSpan((int)(start - batchStart), length)))
                    for (int i = p; i < q; i++) read[i - first] = true;
                p = q;
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
        return new CheckRead(first, count, buffer, read);
    }

    /// <summary>Hashes the pieces <see cref="ReadBatch"/> read and records which match (any thread; never two on one batch).</summary>
    private void HashBatch(CheckRead batch, bool[] ok)
    {
        Span<byte> digest = stackalloc byte[StorageLayout.HashSize];
        long batchStart = _layout.GetPieceOffset(batch.First);
        for (int i = 0; i < batch.Count; i++)
        {
            if (!batch.Read[i]) continue;
            int p = batch.First + i;
            SHA1.HashData(batch.Buffer.AsSpan((int)(_layout.GetPieceOffset(p) - batchStart), _layout.GetPieceSize(p)), digest);
            ok[p] = digest.SequenceEqual(_layout.GetPieceHash(p));
        }
    }

    /// <summary>Disk workers: hashes pieces larger than <see cref="CheckChunkSize"/>, each streamed through an incremental hash in chunk-sized reads.</summary>
    private void CheckLargePieces(int first, int count, long[] sizes, bool[]? trusted, bool[] ok, CancellationToken ct)
    {
        Span<byte> digest = stackalloc byte[StorageLayout.HashSize];
        byte[] buffer = ArrayPool<byte>.Shared.Rent(CheckChunkSize);
        try
        {
            for (int p = first; p < first + count; p++)
            {
                if (trusted?[p] == true || !PieceOnDisk(p, sizes)) continue;
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
        _readOnly ? Task.CompletedTask : _disk.RunAsync(() =>
        {
            for (int i = 0; i < _paths.Length; i++)
            {
                string? path = _paths[i];
                if (path is null || _layout.Files[i].Length != 0) continue;
                using SafeFileHandle h = NoFollowFile.Open(DownloadDirectory, path, create: true, allowWrite: true, out _);
            }
            return true;
        }, ct);

    /// <summary>
    /// Flushes to the device every file written since its last flush, including files whose handle was closed
    /// meanwhile (closing a handle does not flush it). Covers every write that completed before the call, so every
    /// piece <see cref="IsPieceVerified"/> reported before the call is durable once it returns.
    /// </summary>
    public Task FlushAsync() => _disk.RunAsync(() => { FlushDirtyFiles(); return true; }, CancellationToken.None);

    /// <summary>Disk workers only: fsyncs every dirty file (reopening it if its handle was closed); throws the first failure.</summary>
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
