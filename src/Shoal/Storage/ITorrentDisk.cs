using Shoal.Metainfo;

namespace Shoal.Storage;

/// <summary>
/// A torrent's whole disk path, as its actor sees it: one interface over the session's disk service for writing
/// blocks (queued, hashed, written; the verdict comes back through <see cref="IDiskEvents"/>), reading blocks,
/// hashing a piece, checking the files, flushing and releasing them. The disk service owns the queueing, the
/// watermarks and the session-wide bound on disk and hashing work; <see cref="TorrentStorage"/> implements it over a
/// pluggable <see cref="IPieceStorage"/> and an <see cref="IPieceVerifier"/>.
/// </summary>
internal interface ITorrentDisk : IAsyncDisposable
{
    /// <summary>How the torrent's bytes are cut into pieces and files.</summary>
    StorageLayout Layout { get; }

    /// <summary>Where queued writes report (set once by the torrent that owns this disk path).</summary>
    void Attach(IDiskEvents events, BlockBufferPool buffers);

    /// <summary>
    /// True while more writes wait than the high-water mark (this torrent's or the session's): stop requesting
    /// blocks; <see cref="IDiskEvents.OnWriteBacklogDrained"/> says when to go on.
    /// </summary>
    bool IsBacklogged { get; }

    /// <summary>Queues a received block; the disk path owns <paramref name="buffer"/> (from the attached pool) from here on.</summary>
    void EnqueueWrite(int piece, int offset, byte[] buffer, int length);

    /// <summary>Stops taking queued writes (those not started are dropped, their buffers returned) and waits for the ones running.</summary>
    Task StopWritesAsync();

    /// <summary>True when a verified piece can be read back in full (so it may be announced and uploaded).</summary>
    bool IsWhollyStored(int piece);

    /// <summary>Reads a block through a disk worker.</summary>
    ValueTask ReadBlockAsync(int piece, int offset, Memory<byte> destination, CancellationToken ct = default);

    /// <summary>Reads a block on the calling thread when no device is needed; false otherwise.</summary>
    bool TryReadBlockCached(int piece, int offset, Span<byte> destination);

    /// <summary>Reads one piece back and verifies it (a recheck of one piece).</summary>
    Task<bool> HashPieceAsync(int piece, CancellationToken ct = default);

    /// <summary>Checks the existing data as a job, reporting each batch; trusts what <paramref name="resume"/> vouches for.</summary>
    Task<BitField> CheckFilesAsync(ResumeData? resume, IProgress<PieceCheckProgress>? progress, CancellationToken ct = default);

    /// <summary>Null when <paramref name="resume"/> fits this torrent; otherwise why not.</summary>
    string? DescribeResumeMismatch(ResumeData resume);

    /// <summary>
    /// After a check: the files that held content other than the torrent's (pieces that did not match, bytes past
    /// the torrent's length), so the user can be told before anything is written.
    /// </summary>
    ExistingData DescribeExistingData(BitField verified);

    /// <summary>After a check: cuts files longer than the torrent's to its length (never for seed-only storage).</summary>
    Task TrimOversizedFilesAsync(CancellationToken ct = default);

    /// <summary>Creates what no write creates (zero-length files).</summary>
    Task CreateEmptyFilesAsync(CancellationToken ct = default);

    /// <summary>Makes every piece verified so far durable.</summary>
    Task FlushAsync();

    /// <summary>Closes the files nobody is using (a paused torrent holds no descriptors).</summary>
    Task ReleaseFilesAsync();

    /// <summary>Flushes, then snapshots what the next start may trust.</summary>
    Task<ResumeData> CaptureResumeAsync(InfoHash infoHash, CancellationToken ct = default);

    /// <summary>Smart ban: the blocks of a piece whose failed attempt differed from its verified data; null when unknown.</summary>
    int[]? TakeCorruptBlocks(int piece);

    /// <summary>Smart ban: true when a failed attempt was recorded, so the verified retry will name the bad blocks.</summary>
    bool CanIdentifyCorruptBlocks(int piece);
}
