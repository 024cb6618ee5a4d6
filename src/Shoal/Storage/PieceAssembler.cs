using System.Buffers;

namespace Shoal.Storage;

/// <summary>
/// The write path of one torrent: blocks in, verified pieces out. Assembles each piece in a pooled buffer when the
/// write cache has room (hashing the contiguous prefix as blocks extend it, writing the piece whole once it
/// verifies), or block by block straight to storage when it has not. Hashing goes through the torrent's
/// <see cref="IPieceVerifier"/>; the bytes go to its <see cref="IPieceStorage"/>. Thread-safe: several writes, of the
/// same piece too, may run at once.
/// </summary>
/// <remarks>
/// <para><b>Buffered mode.</b> When the first block of a piece arrives and the write cache budget has room for the
/// whole piece, a piece-sized buffer is rented from <see cref="ArrayPool{T}.Shared"/> and charged to the budget.
/// Blocks are copied into it; the contiguous prefix is hashed incrementally as blocks extend it (blocks that arrive
/// early are hashed from the buffer when the gap before them fills, never read back, never hashed twice). When the
/// last byte is hashed and the piece verifies, it is written whole, and only then is
/// <see cref="BlockWriteResult.PieceVerified"/> returned. A piece that fails is never written, so unverified bytes
/// never reach storage on this path and a few large writes replace one per block.</para>
/// <para><b>Direct mode (fallback).</b> When the budget cannot hold the piece, each block is written as it arrives,
/// keeping a running hash of the contiguous prefix; an early block is copied (budget permitting) or read back from
/// storage when its turn comes. Memory stays bounded, at the price of per-block writes.</para>
/// <para><b>Concurrency.</b> Per-piece bookkeeping is guarded by a short lock on the piece's state (never held
/// across I/O or hashing; at most one block copy), and one thread at a time "owns" a piece's hash: it keeps hashing
/// whatever contiguous data is ready, so blocks are hashed in order without anyone waiting for anyone. Each range is
/// accepted once; a repeat gets <see cref="BlockWriteResult.Ignored"/>.</para>
/// <para><b>Where the I/O runs.</b> With <c>inline</c> false (a caller on its own thread), the copy and the hashing run
/// on the caller's thread and storage I/O is posted to the disk service; with <c>inline</c> true (the caller is a disk
/// worker already), everything runs on the calling thread and the result is always complete.</para>
/// <para><b>Errors.</b> A failed write or read-back raises <see cref="StorageException"/> and resets the whole piece
/// (its other blocks are dropped too). Unverified data is never reported as verified.</para>
/// </remarks>
internal sealed class PieceAssembler
{
    private readonly StorageLayout _layout;
    private readonly IPieceVerifier _verifier;
    private readonly IPieceStorage _storage;
    private readonly DiskService _disk;
    private readonly CorruptBlockFinder _corrupt;
    private readonly PieceState?[] _pieces;
    private readonly int[] _verified; // one bit per piece
    private readonly long _cacheBudget;
    private readonly BoundedObjectPool<WriteJob> _writeJobs;
    private readonly BoundedObjectPool<PieceWork> _works;
    private long _cacheBytes;

    public PieceAssembler(StorageLayout layout, IPieceVerifier verifier, IPieceStorage storage, DiskService disk, long cacheBudget, CorruptBlockFinder corrupt)
    {
        _layout = layout;
        _verifier = verifier;
        _storage = storage;
        _disk = disk;
        _corrupt = corrupt;
        _pieces = new PieceState?[layout.PieceCount];
        _verified = new int[(layout.PieceCount + 31) / 32];
        _cacheBudget = Math.Max(0, cacheBudget);
        _writeJobs = new BoundedObjectPool<WriteJob>(1024);
        _works = new BoundedObjectPool<PieceWork>(64);
    }

    /// <summary>Bytes charged to the write cache now (piece buffers, early blocks of direct-mode pieces).</summary>
    public long CacheBytes => Interlocked.Read(ref _cacheBytes);

    public bool IsVerified(int piece) => (Volatile.Read(ref _verified[piece >> 5]) & (1 << (piece & 31))) != 0;

    private void SetVerifiedBit(int piece) => Interlocked.Or(ref _verified[piece >> 5], 1 << (piece & 31));

    private void ClearVerifiedBit(int piece) => Interlocked.And(ref _verified[piece >> 5], ~(1 << (piece & 31)));

    /// <summary>The verified pieces now.</summary>
    public BitField VerifiedPieces()
    {
        var verified = new BitField(_layout.PieceCount);
        for (int p = 0; p < verified.Length; p++)
            if (IsVerified(p)) verified[p] = true;
        return verified;
    }

    /// <summary>
    /// Accepts one block (see the class remarks). The caller may reuse <paramref name="block"/> once the result is
    /// complete. Throws <see cref="StorageException"/> when storage fails; the piece is then reset.
    /// </summary>
    public ValueTask<BlockWriteResult> Write(int piece, int offset, ReadOnlyMemory<byte> block, bool inline)
    {
        int size = _layout.GetPieceSize(piece);
        PieceState st = GetState(piece);
        int end = offset + block.Length;
        int generation;
        bool direct = false;
        lock (st)
        {
            if (IsVerified(piece)) return new(BlockWriteResult.Ignored);
            PieceWork work = st.Work ??= CreateWork(piece, size);
            int coverage = work.Coverage(offset, end);
            if (coverage == 1) return new(BlockWriteResult.Ignored);
            generation = st.Generation;
            if (work.Buffer is null)
            {
                // Direct mode: every block goes to storage, as it arrives.
                if (coverage == 2)
                {
                    List<(int Start, int End)> gaps = work.Gaps(offset, end);
                    foreach ((int s, int e) in gaps) work.AddReceived(s, e);
                    return WriteGaps(st, piece, offset, block, gaps, generation, inline);
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
        if (!direct) return HashBuffered(st, piece, generation, inline);
        return inline ? new(ExecuteWrite(st, piece, offset, block, generation)) : PostWrite(st, piece, offset, block, generation);
    }

    private PieceWork CreateWork(int piece, int pieceSize)
    {
        PieceWork work = _works.TryRent() ?? new PieceWork();
        if (_storage.RequiresWholePiece(piece))
        {
            // Over budget if need be: block by block, the part that storage does not keep would have to be read
            // back from nowhere, and the piece could never verify.
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
    /// Buffered mode, as the owner of the piece's hash: hashes the buffer from the hashed prefix up to the end of the
    /// contiguous data, again while other writers extend it. When the piece is complete and verifies, writes it whole
    /// (inline, or through a disk worker).
    /// </summary>
    private ValueTask<BlockWriteResult> HashBuffered(PieceState st, int piece, int generation, bool inline)
    {
        int size = _layout.GetPieceSize(piece);
        PieceWork work;
        int from, to;
        lock (st)
        {
            work = st.Work!; // not released while we own the hash
            work.Hasher ??= _verifier.CreateHasher();
            from = st.HashedPrefix;
            if (from == 0) work.Hasher.Begin(piece);
            to = work.ContiguousEnd();
        }
        PieceHasher hasher = work.Hasher;
        byte[] buffer = work.Buffer!;
        while (true)
        {
            // Bytes below the contiguous end are never rewritten in this generation. After a reset, new blocks may
            // land in the range we hash; that only spoils a hash we are about to discard.
            hasher.Append(buffer.AsSpan(from, to - from));
            lock (st)
            {
                if (st.Generation != generation)
                {
                    hasher.Reset(); // the reset set HashedPrefix to 0: start over with the new generation's data
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

        if (!hasher.Finish(piece))
        {
            // Remember what each block looked like, so the verified retry can tell which blocks were bad.
            _corrupt.OnFailed(piece, buffer.AsSpan(0, size));
            // Nothing of this piece was written: the buffer goes back to the pool and the piece starts over.
            lock (st)
            {
                st.Writing = false;
                st.Hashing = false;
                ResetLocked(st);
            }
            return new(BlockWriteResult.PieceFailed);
        }

        _corrupt.OnVerified(piece, buffer.AsSpan(0, size));
        if (inline) return new(ExecutePieceWrite(st, piece, buffer.AsMemory(0, size)));
        WriteJob job = _writeJobs.TryRent() ?? new WriteJob(this);
        job.State = st;
        job.Piece = piece;
        job.WholePiece = true;
        job.Data = buffer.AsMemory(0, size);
        short version = job.Version;
        _disk.Post(job);
        return new ValueTask<BlockWriteResult>(job, version);
    }

    /// <summary>Writes a verified buffered piece whole, then marks it verified (a disk worker).</summary>
    internal BlockWriteResult ExecutePieceWrite(PieceState st, int piece, ReadOnlyMemory<byte> data)
    {
        try
        {
            _storage.WritePiece(piece, data.Span);
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
        WriteJob job = _writeJobs.TryRent() ?? new WriteJob(this);
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
    private ValueTask<BlockWriteResult> WriteGaps(PieceState st, int piece, int offset, ReadOnlyMemory<byte> block,
        List<(int Start, int End)> gaps, int generation, bool inline)
    {
        if (!inline) return WriteGapsAsync(st, piece, offset, block, gaps, generation);
        BlockWriteResult combined = BlockWriteResult.Ignored;
        foreach ((int s, int e) in gaps)
        {
            BlockWriteResult r = ExecuteWrite(st, piece, s, block.Slice(s - offset, e - s), generation);
            if (r is BlockWriteResult.PieceVerified or BlockWriteResult.PieceFailed) return new(r);
            if (r == BlockWriteResult.Stored) combined = r;
        }
        return new(combined);
    }

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

    /// <summary>Direct mode, on a disk worker: writes the block, then hashes it (and whatever it unblocks) or parks it.</summary>
    internal BlockWriteResult ExecuteWrite(PieceState st, int piece, int offset, ReadOnlyMemory<byte> data, int generation)
    {
        try
        {
            _storage.WriteBlock(piece, offset, data.Span);
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
        PieceHasher hasher;
        lock (st)
        {
            hasher = st.Work!.Hasher ??= _verifier.CreateHasher();
            if (st.HashedPrefix == 0) hasher.Begin(piece);
        }

        ReadOnlySpan<byte> chunk = firstChunk;
        byte[]? rented = null;
        int charged = 0; // bytes of the budget the current buffer holds
        try
        {
            while (true)
            {
                hasher.Append(chunk);
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
                        hasher.Reset();
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
                    bool match = hasher.Finish(piece);
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
                    _storage.Read(piece, next.Start, rented.AsSpan(0, next.Length));
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
    /// Drops the partial state of a piece (the caller gave up on it): its buffer goes back to the pool and its ranges
    /// are accepted again. Verified pieces, and complete pieces whose verified write is in flight, are left alone.
    /// </summary>
    public void ResetPiece(int piece)
    {
        PieceState? st = Volatile.Read(ref _pieces[piece]);
        if (st is null) return;
        lock (st) ResetLocked(st);
    }

    /// <summary>Records what a data check found: verified pieces drop any partial state, the others are not verified.</summary>
    public void ApplyCheck(bool[] verified)
    {
        for (int p = 0; p < verified.Length; p++)
        {
            PieceState? st = Volatile.Read(ref _pieces[p]);
            if (st is null)
            {
                if (verified[p]) SetVerifiedBit(p); else ClearVerifiedBit(p);
                continue;
            }
            lock (st)
            {
                if (verified[p]) { ResetLocked(st); SetVerifiedBit(p); }
                else ClearVerifiedBit(p);
            }
        }
    }

    /// <summary>Drops every partial piece (the torrent is closing).</summary>
    public void ResetAll()
    {
        foreach (PieceState? st in _pieces)
        {
            if (st is null) continue;
            lock (st) ResetLocked(st);
        }
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
        work.Hasher?.Reset();
        if (work.Buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(work.Buffer);
            Interlocked.Add(ref _cacheBytes, -work.BufferCharge);
            work.Buffer = null;
            work.BufferCharge = 0;
        }
        _works.Return(work);
    }

    private bool TryChargeCache(int bytes)
    {
        // Compare-and-swap, not add-then-undo: a refused charge must never show, even for an instant, in
        // CacheBytes, which promises never to exceed the budget (a concurrent reader saw 4096 > 0 in a test).
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

    internal void ReturnJob(WriteJob job) => _writeJobs.Return(job);
}
