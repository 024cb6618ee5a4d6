using Shoal.Metainfo;

namespace Shoal.Storage;

/// <summary>
/// One torrent's disk path on the session's <see cref="DiskService"/>: block writes assembled into verified pieces
/// (<see cref="PieceAssembler"/>), block reads, the check of existing data (<see cref="DataCheck"/>), flushing and
/// resume snapshots, over a pluggable <see cref="IPieceStorage"/> (files by default) and the torrent's
/// <see cref="IPieceVerifier"/>. Writes come either one at a time from a caller that awaits them
/// (<see cref="WriteBlockAsync"/>) or queued from the torrent actor (<c>ITorrentDisk.EnqueueWrite</c>), which the disk
/// service runs on its workers with per-torrent and session-wide watermarks.
/// </summary>
public sealed partial class TorrentStorage : ITorrentDisk
{
    /// <summary>The block size smart-ban digests are taken at (the request size every client uses).</summary>
    public const int DigestBlockLength = CorruptBlockFinder.BlockLength;

    /// <summary>Queued writes past which the torrent stops requesting: a slow disk slows the download instead of filling memory.</summary>
    internal const int WriteHighWater = 512;

    /// <summary>Requests paused at the high-water mark resume here (an event, not the next tick: a 500 ms gap would idle a fast link).</summary>
    internal const int WriteLowWater = WriteHighWater / 4;

    private readonly DiskService _disk;
    private readonly StorageLayout _layout;
    private readonly IPieceVerifier _verifier;
    private readonly IPieceStorage _storage;
    private readonly FileStorage? _files; // the storage, when it is files
    private readonly PieceAssembler _assembler;
    private readonly CorruptBlockFinder _corrupt = new();
    private readonly BoundedObjectPool<ReadJob> _readJobs;
    private readonly WriteLane?[] _lanes; // each made on its first queued write (a seed never queues one)
    private IDiskEvents? _events;
    private BlockBufferPool? _buffers;
    private int _queued; // queued writes not finished
    private volatile bool _drainWanted;
    private int _writesStopped; // 1: queued writes are dropped (the torrent is stopping)
    private TaskCompletionSource? _writesIdle;
    private int _disposed;

    private TorrentStorage(DiskService disk, StorageLayout layout, IPieceVerifier verifier, IPieceStorage storage, StorageOptions options)
    {
        if (verifier.PieceCount != layout.PieceCount)
            throw new ArgumentException($"the verifier knows {verifier.PieceCount} pieces, the layout has {layout.PieceCount}", nameof(verifier));
        _disk = disk;
        _layout = layout;
        _verifier = verifier;
        _storage = storage;
        _files = storage as FileStorage;
        _assembler = new PieceAssembler(layout, verifier, storage, disk, options.WriteCacheBudget, _corrupt);
        _readJobs = new BoundedObjectPool<ReadJob>(256);
        _lanes = new WriteLane?[Math.Max(1, disk.Concurrency)];
    }

    /// <inheritdoc />
    public IPieceVerifier Verifier => _verifier;

    /// <summary>
    /// Prepares storage for <paramref name="layout"/> in files under <paramref name="downloadDirectory"/>, verified by
    /// <paramref name="verifier"/>. Touches no file: files and folders are created on first write. Throws
    /// <see cref="StorageException"/> (kind <see cref="StorageErrorKind.UnsafePath"/>) when a path is unsafe or two
    /// files share a path, and (kind <see cref="StorageErrorKind.NameTooLong"/>) when a name or path is longer than
    /// the folder's file system allows.
    /// </summary>
    public static TorrentStorage Create(DiskService disk, StorageLayout layout, IPieceVerifier verifier, string downloadDirectory, StorageOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(disk);
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(verifier);
        options ??= new StorageOptions();
        return new TorrentStorage(disk, layout, verifier, FileStorage.Create(disk.FileIo, disk.Files, layout, downloadDirectory, options), options);
    }

    /// <summary>Puts the torrent's bytes in <paramref name="storage"/> (which the result owns and disposes) instead of files.</summary>
    public static TorrentStorage Create(DiskService disk, StorageLayout layout, IPieceVerifier verifier, IPieceStorage storage, StorageOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(disk);
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(verifier);
        ArgumentNullException.ThrowIfNull(storage);
        return new TorrentStorage(disk, layout, verifier, storage, options ?? new StorageOptions());
    }

    /// <summary>The layout this storage serves.</summary>
    public StorageLayout Layout => _layout;

    /// <summary>Where the bytes live.</summary>
    public IPieceStorage Storage => _storage;

    /// <summary>The download folder (full path, ending with a separator); empty when the storage is not files.</summary>
    public string DownloadDirectory => _files?.DownloadDirectory ?? "";

    /// <summary>Full path of file <paramref name="fileIndex"/> on disk, or null for a padding or skipped file (or storage that is not files).</summary>
    public string? GetFilePath(int fileIndex) => _files?.GetFilePath(fileIndex);

    /// <summary>
    /// Bytes currently charged to the write cache: piece buffers of buffered pieces (their full piece size from the
    /// first block on) plus early blocks of direct-mode pieces. Never above <see cref="StorageOptions.WriteCacheBudget"/>;
    /// back to zero when no piece is in progress.
    /// </summary>
    public long WriteCacheBytes => _assembler.CacheBytes;

    /// <summary>True when the piece was verified by this storage (a completed write or a check, trusted or hashed).</summary>
    public bool IsPieceVerified(int piece)
    {
        _layout.GetPieceSize(piece); // range check
        return _assembler.IsVerified(piece);
    }

    /// <summary>True when part of <paramref name="piece"/> lies in a skipped file: that part is never in the files.</summary>
    public bool TouchesSkippedFile(int piece) => _storage.RequiresWholePiece(piece);

    /// <summary>
    /// True when every byte of <paramref name="piece"/> can be read back once it is verified: it touches no skipped
    /// file, or its copy is kept (<see cref="StorageOptions.PartsDirectory"/>). Only such pieces may be uploaded.
    /// </summary>
    public bool IsWhollyStored(int piece) => _storage.CanServe(piece);

    // ---------------------------------------------------------------- writes

    /// <summary>
    /// Accepts one block of a piece and advances the piece's hash. Returns <see cref="BlockWriteResult.PieceVerified"/>
    /// or <see cref="BlockWriteResult.PieceFailed"/> to the one write that completed the piece (PieceVerified only
    /// once the whole piece is written). Several writes (of the same piece too) may be outstanding at once. The
    /// caller may reuse <paramref name="block"/> as soon as the returned task completes. Throws
    /// <see cref="StorageException"/> when the disk fails; the piece is then reset. Cancellation is honoured only
    /// before the block is accepted: once accepted, it counts.
    /// </summary>
    /// <remarks>
    /// For a buffered piece (the usual case, see <see cref="PieceAssembler"/>) this method copies the block into the
    /// piece buffer and hashes whatever contiguous data that makes available on the calling thread; such a call
    /// completes synchronously without allocating, and only the final write of a verified piece goes to a disk
    /// worker. Direct-mode pieces (budget exhausted) are written and hashed on a disk worker. A torrent actor uses
    /// <c>ITorrentDisk.EnqueueWrite</c> instead, which does all of it on the disk service's workers.
    /// </remarks>
    public ValueTask<BlockWriteResult> WriteBlockAsync(int piece, int offset, ReadOnlyMemory<byte> block, CancellationToken ct = default)
    {
        ThrowIfReadOnly();
        CheckBlock(piece, offset, block.Length);
        if (ct.IsCancellationRequested) return ValueTask.FromCanceled<BlockWriteResult>(ct);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        ObjectDisposedException.ThrowIf(_disk.IsDisposed, _disk);
        return _assembler.Write(piece, offset, block, inline: false);
    }

    void ITorrentDisk.Attach(IDiskEvents events, BlockBufferPool buffers)
    {
        _events = events;
        _buffers = buffers;
    }

    /// <summary>True while more queued writes wait than this torrent's or the session's high-water mark.</summary>
    public bool IsBacklogged
    {
        get
        {
            bool mine = Volatile.Read(ref _queued) > WriteHighWater;
            if (!mine && !_disk.WritesBacklogged) return false;
            _drainWanted = true;
            if (!mine) _disk.WakeOnDrain(this);
            return true;
        }
    }

    void ITorrentDisk.EnqueueWrite(int piece, int offset, byte[] buffer, int length)
    {
        ThrowIfReadOnly();
        CheckBlock(piece, offset, length);
        Interlocked.Increment(ref _queued);
        _disk.OnWriteQueued();
        // Only the actor queues writes, so making a lane here needs no lock; workers only see lanes already made.
        (_lanes[piece % _lanes.Length] ??= new WriteLane(this, _disk)).Enqueue(new QueuedBlock(piece, offset, buffer, length));
    }

    /// <summary>A disk worker runs a queued write: assemble, hash, write; report the verdict; give the buffer back.</summary>
    internal void RunQueuedWrite(in QueuedBlock block)
    {
        try
        {
            if (WritesStopped || Volatile.Read(ref _disposed) != 0) return;
            BlockWriteResult result = _assembler.Write(block.Piece, block.Offset, block.Buffer.AsMemory(0, block.Length), inline: true).Result;
            if (result is BlockWriteResult.PieceVerified or BlockWriteResult.PieceFailed)
                _events!.OnPieceHashed(block.Piece, result == BlockWriteResult.PieceVerified);
        }
        catch (Exception ex)
        {
            if (!WritesStopped) _events!.OnWriteFailed(block.Piece, ex);
        }
        finally
        {
            _buffers!.Return(block.Buffer);
            FinishQueuedWrite();
        }
    }

    /// <summary>A queued write was refused before it ran (the disk service is closing): nothing written, buffer back.</summary>
    internal void AbortQueuedWrite(in QueuedBlock block, Exception error)
    {
        if (!WritesStopped) _events!.OnWriteFailed(block.Piece, error);
        _buffers!.Return(block.Buffer);
        FinishQueuedWrite();
    }

    private void FinishQueuedWrite()
    {
        int left = Interlocked.Decrement(ref _queued);
        _disk.OnWriteDone();
        if (left == WriteLowWater && _drainWanted) NotifyDrained();
        if (left == 0 && WritesStopped) Volatile.Read(ref _writesIdle)?.TrySetResult();
    }

    private bool WritesStopped => Volatile.Read(ref _writesStopped) != 0;

    /// <summary>The session's queue drained (called by the disk service for a torrent that waited on it).</summary>
    internal void NotifyDrained()
    {
        if (!_drainWanted || Volatile.Read(ref _queued) > WriteHighWater) return;
        _drainWanted = false;
        _events?.OnWriteBacklogDrained();
    }

    /// <inheritdoc />
    public Task StopWritesAsync()
    {
        var idle = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _writesIdle, idle);
        // A full fence before reading the count: a write finishing now either sees the flag or is counted below.
        Interlocked.Exchange(ref _writesStopped, 1);
        if (Volatile.Read(ref _queued) == 0) idle.TrySetResult();
        return idle.Task;
    }

    private void CheckBlock(int piece, int offset, int length)
    {
        int size = _layout.GetPieceSize(piece);
        if (offset < 0 || length <= 0 || offset > size - length)
            throw new ArgumentOutOfRangeException(nameof(offset), $"block [{offset}, +{length}) is outside piece {piece} of {size} bytes");
    }

    /// <summary>
    /// Smart ban: after <paramref name="piece"/> failed its hash check and then verified, the indices of the
    /// <see cref="DigestBlockLength"/> blocks whose failed copy differed from the verified data (the blocks a
    /// lying peer sent). Null when unknown (the failed attempt was written block by block, or nothing failed).
    /// Each result is given out once.
    /// </summary>
    public int[]? TakeCorruptBlocks(int piece) => _corrupt.Take(piece);

    /// <summary>True when a failed attempt of <paramref name="piece"/> was recorded, so a verified retry will name the bad blocks.</summary>
    public bool CanIdentifyCorruptBlocks(int piece) => _corrupt.HasFailure(piece);

    /// <summary>
    /// Drops the partial state of a piece (the caller gave up on it): its buffer goes back to the pool and its
    /// ranges are accepted again. Verified pieces, and complete pieces whose verified write is in flight, are left alone.
    /// </summary>
    public void ResetPiece(int piece)
    {
        _layout.GetPieceSize(piece); // range check
        _assembler.ResetPiece(piece);
    }

    // ---------------------------------------------------------------- reads

    /// <summary>
    /// Reads <paramref name="destination"/>.Length bytes of a piece starting at <paramref name="offset"/>, across
    /// file boundaries (padding reads as zeros). Fills the destination fully or throws <see cref="StorageException"/>
    /// (for instance when a file does not exist yet or is too short). Allocation-free (pooled job).
    /// </summary>
    /// <remarks>
    /// Reads always come from storage, never from the write cache. That is right for verified pieces, the only ones
    /// a peer should be served. Reading a piece that is not verified returns whatever storage holds (old bytes,
    /// zeros, or nothing - a <see cref="StorageException"/>), not the blocks received so far: checking
    /// <see cref="IsPieceVerified"/> first is the caller's job.
    /// </remarks>
    public ValueTask ReadBlockAsync(int piece, int offset, Memory<byte> destination, CancellationToken ct = default)
    {
        CheckBlock(piece, offset, destination.Length);
        if (ct.IsCancellationRequested) return ValueTask.FromCanceled(ct);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        ReadJob job = _readJobs.TryRent() ?? new ReadJob(this);
        job.Piece = piece;
        job.Offset = offset;
        job.Destination = destination;
        job.CancellationToken = ct;
        short version = job.Version;
        _disk.Post(job);
        return new ValueTask(job, version);
    }

    /// <summary>
    /// Fills <paramref name="destination"/> like <see cref="ReadBlockAsync"/> but only when no device is needed (data
    /// already in the operating system's page cache, through files already open), on the calling thread. Returns
    /// false when any byte would need the disk (or the platform cannot tell); the caller then uses
    /// <see cref="ReadBlockAsync"/>. Safe on network threads: it never blocks on I/O.
    /// </summary>
    public bool TryReadBlockCached(int piece, int offset, Span<byte> destination)
    {
        if (Volatile.Read(ref _disposed) != 0) return false;
        int size = _layout.GetPieceSize(piece);
        if (offset < 0 || destination.IsEmpty || offset > size - destination.Length) return false;
        return _storage.TryReadCached(piece, offset, destination);
    }

    /// <inheritdoc />
    public Task<bool> HashPieceAsync(int piece, CancellationToken ct = default)
    {
        int size = _layout.GetPieceSize(piece);
        return _disk.RunAsync(() =>
        {
            byte[] buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(size);
            try
            {
                _storage.Read(piece, 0, buffer.AsSpan(0, size));
                return _verifier.VerifyPiece(piece, buffer.AsSpan(0, size));
            }
            catch (StorageException e) when (e.Kind == StorageErrorKind.NotFound)
            {
                return false;
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            }
        }, ct);
    }

    // ---------------------------------------------------------------- check

    /// <summary>
    /// Verifies the existing data of every piece that storage may hold (files long enough); the others are reported
    /// missing without reading. Runs up to <see cref="DiskService.Concurrency"/> batches of pieces at once with large
    /// reads. Reports the running number of checked pieces to <paramref name="checkedPieces"/>. Updates
    /// <see cref="IsPieceVerified"/> (call it before writing).
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
    public Task<BitField> CheckExistingAsync(ResumeData? resume, IProgress<int>? checkedPieces, CancellationToken ct = default) =>
        CheckFilesAsync(resume, checkedPieces is null ? null : new CountOnly(checkedPieces), ct);

    /// <summary>
    /// The data check as a job (see <see cref="CheckExistingAsync(ResumeData?, IProgress{int}?, CancellationToken)"/>):
    /// reports each batch of pieces with their verdicts as it is done, so the caller can use what is verified while the
    /// rest is checked.
    /// </summary>
    public async Task<BitField> CheckFilesAsync(ResumeData? resume, IProgress<PieceCheckProgress>? progress, CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        int pieceCount = _layout.PieceCount;
        var result = new BitField(pieceCount);
        if (pieceCount == 0) return result;

        // Files may have changed behind our back (deleted, replaced): look at storage afresh.
        ResumeFileState[] files = await _disk.RunAsync(() =>
        {
            _storage.Refresh();
            return _storage.InspectFiles();
        }, ct).ConfigureAwait(false);

        var check = new DataCheck(_layout, _verifier, _storage, _disk);
        bool[]? trusted = resume is not null && DescribeResumeMismatch(resume) is null ? check.TrustedPieces(resume, files) : null;
        RememberCheckedFiles(files, trusted is not null ? VouchedFiles(resume!, files) : null);
        bool[] ok = await check.RunAsync(files, trusted, progress, ct).ConfigureAwait(false);
        // The check opened the files only to read them once: give the descriptors back (bookkeeping and close(2) of
        // files opened for reading). A seed reopens a file when a peer asks for it; 10,000 checked seeds hold none.
        _files?.CloseIdleFiles();
        _assembler.ApplyCheck(ok);
        for (int p = 0; p < pieceCount; p++) result[p] = ok[p];
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
    /// taken, (2) everything written since the last flush is flushed (so every piece of the set is durable, whatever
    /// handles were closed meanwhile), (3) each file's length and last-write time are read. Then save the result
    /// with <see cref="ResumeFile.Save"/>. Writes may continue meanwhile: a piece verified after step 1 is simply not
    /// in the snapshot, and a write after step 3 changes its file's last-write time, so the next check rehashes that
    /// file's pieces - slower, never wrong.
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
        BitField verified = _assembler.VerifiedPieces();
        long captured = _disk.Time.GetUtcNow().UtcTicks;
        (ResumeFileState[] files, byte[]? trees) = await _disk.RunAsync(() =>
        {
            _storage.Flush();
            // v2: what the merkle trees learned (layers from peers, block hashes) goes with the pieces it lets us trust.
            return (_storage.InspectFiles(), _verifier is MerklePieceVerifier merkle ? HashTreeResume.Capture(merkle.Trees) : null);
        }, ct).ConfigureAwait(false);
        return new ResumeData(infoHash, _layout.PieceLength, verified, files, captured) { HashTrees = trees };
    }

    // ---------------------------------------------------------------- files, flush, dispose

    /// <summary>Creates the zero-length files of the torrent (no block ever writes them).</summary>
    public Task CreateEmptyFilesAsync(CancellationToken ct = default) =>
        IsReadOnly || !_layout.Files.Any(f => f.Length == 0 && !f.IsPadding) ? Task.CompletedTask
            : _disk.RunAsync(() => { _storage.CreateEmptyFiles(); return true; }, ct);

    /// <inheritdoc />
    public Task<IReadOnlyList<string>> FinishFilesAsync(CancellationToken ct = default) =>
        _files is null || IsReadOnly ? Task.FromResult<IReadOnlyList<string>>([]) : _disk.RunAsync<IReadOnlyList<string>>(() => _files.FinishFiles(), ct);

    /// <summary>
    /// Flushes to the device everything written so far, including files whose handle was closed meanwhile (closing
    /// a handle does not flush it). Covers every write that completed before the call, so every piece
    /// <see cref="IsPieceVerified"/> reported before the call is durable once it returns.
    /// </summary>
    public Task FlushAsync() =>
        // Files that were never written (a seed: 10,000 of them stopping at once) have nothing to flush: no disk job.
        _files is { HasUnflushedWrites: false } ? Task.CompletedTask : _disk.RunAsync(() => { _storage.Flush(); return true; }, CancellationToken.None);

    /// <inheritdoc />
    public Task ReleaseFilesAsync() => _disk.RunAsync(() => { _files?.CloseIdleFiles(); return true; }, CancellationToken.None);

    /// <summary>Drops in-memory partial pieces and closes the storage (a file handle in use is closed when its job ends).</summary>
    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return ValueTask.CompletedTask;
        Interlocked.Exchange(ref _writesStopped, 1);
        _assembler.ResetAll();
        _storage.Dispose();
        return ValueTask.CompletedTask;
    }

    internal void ReturnJob(ReadJob job) => _readJobs.Return(job);

    /// <summary>Reports only the running count of checked pieces (the older progress form).</summary>
    private sealed class CountOnly(IProgress<int> inner) : IProgress<PieceCheckProgress>
    {
        public void Report(PieceCheckProgress value) => inner.Report(value.Checked);
    }
}
