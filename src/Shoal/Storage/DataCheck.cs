using System.Buffers;

namespace Shoal.Storage;

/// <summary>
/// The check of a torrent's existing data: every piece whose bytes may be in storage is read in large batches and
/// verified, except the pieces resume data vouches for, on the disk service's workers (so the session-wide bound on
/// disk and hashing work holds). Reports its progress batch by batch, so its caller can serve peers what is verified
/// so far while the rest is read.
/// </summary>
internal sealed class DataCheck(StorageLayout layout, IPieceVerifier verifier, IPieceStorage storage, DiskService disk)
{
    private const int CheckChunkSize = 4 * 1024 * 1024;

    /// <summary>
    /// Checks every piece; returns per piece whether it verified. <paramref name="files"/> is what storage held when
    /// the check began; <paramref name="trusted"/> the pieces resume data vouches for (null: none).
    /// </summary>
    public async Task<bool[]> RunAsync(ResumeFileState[] files, bool[]? trusted, IProgress<PieceCheckProgress>? progress, CancellationToken ct)
    {
        int pieceCount = layout.PieceCount;
        var ok = new bool[pieceCount];
        if (trusted is not null) Array.Copy(trusted, ok, pieceCount);
        int piecesPerBatch = Math.Max(1, CheckChunkSize / layout.PieceLength);
        int batches = (int)(((long)pieceCount + piecesPerBatch - 1) / piecesPerBatch);
        int nextBatch = -1;
        int done = 0;

        void Report(int first, int count)
        {
            int total = Interlocked.Add(ref done, count);
            progress?.Report(new PieceCheckProgress(total, first, ok.AsSpan(first, count).ToArray()));
        }

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
                    await disk.RunAsync(() =>
                    {
                        if (layout.PieceLength > CheckChunkSize)
                        {
                            CheckLargePieces(first, count, files, trusted, ok, ct);
                            return true;
                        }
                        CheckRead read = ReadBatch(first, count, files, trusted, ct);
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
                Report(first, count);
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
                if (!AllTrusted(trusted, first, count)) return disk.RunAsync(() => ReadBatch(first, count, files, trusted, ct), ct);
                Report(first, count);
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
                    Report(read.First, read.Count);
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

        var lanes = new Task[Math.Min(disk.Concurrency, batches)];
        bool pipeline = disk.Concurrency == 1 && layout.PieceLength <= CheckChunkSize;
        for (int i = 0; i < lanes.Length; i++) lanes[i] = pipeline ? PipelinedLaneAsync() : WorkerLaneAsync();
        await Task.WhenAll(lanes).ConfigureAwait(false);
        return ok;
    }

    /// <summary>The pieces <paramref name="resume"/> vouches for: verified then, and every file they touch unchanged since.</summary>
    public bool[] TrustedPieces(ResumeData resume, ResumeFileState[] files)
    {
        var fileOk = new bool[files.Length];
        for (int i = 0; i < fileOk.Length; i++)
        {
            ResumeFileState r = resume.Files[i];
            // A file not stored now (skipped) is never trusted even if it was recorded: its bytes are not ours to vouch for.
            fileOk[i] = !files[i].IsAbsent && !r.IsAbsent && files[i].Length == r.Length && files[i].LastWriteUtcTicks == r.LastWriteUtcTicks;
        }
        var trusted = new bool[layout.PieceCount];
        for (int p = 0; p < trusted.Length; p++)
        {
            if (!resume.IsVerified(p)) continue;
            bool ok = true;
            foreach (FileSlice s in layout.MapRange(layout.GetPieceOffset(p), layout.GetPieceSize(p)))
            {
                if (layout.Files[s.FileIndex].IsPadding) continue;
                if (!fileOk[s.FileIndex] || files[s.FileIndex].Length < s.FileOffset + s.Length) { ok = false; break; }
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

    /// <summary>One batch of pieces read for the check: <see cref="Read"/>[i] tells whether piece First + i is in <see cref="Buffer"/>, at its offset from the batch's start.</summary>
    private sealed record CheckRead(int First, int Count, byte[] Buffer, bool[] Read);

    /// <summary>
    /// Disk workers: reads the batch's untrusted pieces that storage may hold, in runs of consecutive pieces (one
    /// large read each), into a pooled buffer the caller returns. Pieces of pieceLength &lt;= <see cref="CheckChunkSize"/> only.
    /// </summary>
    private CheckRead ReadBatch(int first, int count, ResumeFileState[] files, bool[]? trusted, CancellationToken ct)
    {
        int end = first + count;
        long batchStart = layout.GetPieceOffset(first);
        byte[] buffer = ArrayPool<byte>.Shared.Rent((int)(layout.GetPieceOffset(end - 1) + layout.GetPieceSize(end - 1) - batchStart));
        var read = new bool[count];
        try
        {
            for (int p = first; p < end;)
            {
                ct.ThrowIfCancellationRequested();
                if (trusted?[p] == true || !storage.MayHold(p, files)) { p++; continue; }
                int q = p + 1;
                while (q < end && trusted?[q] != true && storage.MayHold(q, files)) q++;
                long start = layout.GetPieceOffset(p);
                int length = (int)(layout.GetPieceOffset(q - 1) + layout.GetPieceSize(q - 1) - start);
                if (TryRead(p, buffer.AsSpan((int)(start - batchStart), length)))
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

    /// <summary>Verifies the pieces <see cref="ReadBatch"/> read and records which match (any thread; never two on one batch).</summary>
    private void HashBatch(CheckRead batch, bool[] ok)
    {
        long batchStart = layout.GetPieceOffset(batch.First);
        for (int i = 0; i < batch.Count; i++)
        {
            if (!batch.Read[i]) continue;
            int p = batch.First + i;
            ok[p] = verifier.VerifyPiece(p, batch.Buffer.AsSpan((int)(layout.GetPieceOffset(p) - batchStart), layout.GetPieceSize(p)));
        }
    }

    /// <summary>Disk workers: verifies pieces larger than <see cref="CheckChunkSize"/>, each streamed through an incremental hash in chunk-sized reads.</summary>
    private void CheckLargePieces(int first, int count, ResumeFileState[] files, bool[]? trusted, bool[] ok, CancellationToken ct)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(CheckChunkSize);
        using PieceHasher hasher = verifier.CreateHasher();
        try
        {
            for (int p = first; p < first + count; p++)
            {
                if (trusted?[p] == true || !storage.MayHold(p, files)) continue;
                int size = layout.GetPieceSize(p);
                hasher.Begin(p);
                bool complete = true;
                for (int pos = 0; pos < size;)
                {
                    ct.ThrowIfCancellationRequested();
                    int n = Math.Min(CheckChunkSize, size - pos);
                    if (!TryRead(p, buffer.AsSpan(0, n), pos))
                    {
                        complete = false;
                        break;
                    }
                    hasher.Append(buffer.AsSpan(0, n));
                    pos += n;
                }
                if (complete) ok[p] = hasher.Finish(p);
                else hasher.Reset();
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    // A file that vanished or shrank since we looked just means "not there"; other errors are real and surface.
    private bool TryRead(int piece, Span<byte> destination, int offset = 0)
    {
        try
        {
            // A run of consecutive pieces is one read from its first piece: one large read instead of one per piece.
            storage.Read(piece, offset, destination);
            return true;
        }
        catch (StorageException e) when (e.Kind == StorageErrorKind.NotFound)
        {
            return false;
        }
    }
}
