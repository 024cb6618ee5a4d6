using Shoal.Metainfo;
using Shoal.Picking;
using Shoal.Storage;

namespace Shoal.Swarm;

/// <summary>What a finished data check found.</summary>
/// <param name="Verified">The verified pieces.</param>
/// <param name="UsedResume">True when resume data was trusted.</param>
internal sealed record CheckOutcome(BitField Verified, bool UsedResume);

/// <summary>
/// A torrent's data check as a job beside its actor: loads the resume data, checks the files through the disk path
/// (each batch's verdicts posted to the mailbox as they come), reports what was there that is not the torrent's
/// (<see cref="TorrentOptions.DataChecked"/>), cuts files longer than the torrent's and creates the zero-length files
/// (neither in seed-only mode), and posts the outcome.
/// The actor keeps serving its mailbox meanwhile: pieces verified so far are announced (HAVE) and served at once.
/// When the check ends, what it found is the picker's starting point.
/// </summary>
internal sealed class TorrentCheck(TorrentContext torrent, ResumeSaver resume, PeerAvailability availability, TorrentActor actor)
{
    private Task _running = Task.CompletedTask;

    /// <summary>Completes when the check job has ended (never faults): the storage may be closed after it.</summary>
    public Task Completion => _running;

    /// <summary>Starts checking <see cref="TorrentContext.Storage"/>, with the torrent's file selection in force.</summary>
    public void Start(CancellationToken stop)
    {
        Torrent t = torrent.Torrent!;
        torrent.State = TorrentState.Checking;
        PiecePriorities priorities = PiecePriorities.For(t);
        if (torrent.Options.FilePriorities is { } levels)
        {
            for (int f = 0; f < Math.Min(levels.Count, t.Files.Count); f++)
                if (levels[f] is not (FilePriority.Normal or FilePriority.Skip)) priorities.SetFilePriority(f, levels[f]);
        }
        HashSet<int>? skipped = ShoalSession.SkippedFiles(t, torrent.Options);
        torrent.StorageSkippedFiles = skipped;
        if (skipped is not null)
        {
            foreach (int f in skipped) priorities.SetFilePriority(f, FilePriority.Skip);
            torrent.Log($"downloading {t.Files.Count - skipped.Count} of {t.Files.Count} files ({priorities.WantedBytes} bytes)");
        }
        if (torrent.Options.FirstAndLastPiecesFirst) priorities.SetFirstAndLastPiecesFirst(true);
        torrent.Priorities = priorities;
        _running = Task.Run(() => RunAsync(stop), CancellationToken.None);
    }

    /// <summary>A batch of the check is done: its verified pieces are ours to announce and serve from now on.</summary>
    public void OnProgress(PieceCheckProgress progress)
    {
        if (torrent.State != TorrentState.Checking) return;
        Interlocked.Exchange(ref torrent.CheckedPieces, progress.Checked);
        for (int i = 0; i < progress.Verified.Length; i++)
            if (progress.Verified[i]) MarkVerified(progress.First + i);
    }

    /// <summary>The check ended: every verified piece is marked, and the picker starts from them.</summary>
    public void Finish(CheckOutcome outcome)
    {
        Torrent t = torrent.Torrent!;
        foreach (int piece in outcome.Verified.SetBits) MarkVerified(piece); // batches the mailbox had no room for
        Interlocked.Exchange(ref torrent.CheckedPieces, t.PieceCount);
        resume.OnChecked(outcome.UsedResume);
        var picker = new PiecePicker(t.PieceCount, t.PieceLength, t.TotalSize, torrent.Have, torrent.Random)
        {
            Sequential = torrent.Options.Sequential,
        };
        PiecePriorities priorities = torrent.Priorities!;
        for (int p = 0; p < t.PieceCount; p++)
        {
            FilePriority level = priorities.GetPiecePriority(p);
            if (level != FilePriority.Normal) picker.SetPiecePriority(p, level);
        }
        torrent.Picker = picker;
        // The job posted this outcome as its last act: an idle torrent need not keep its finished task (and closure).
        _running = Task.CompletedTask;
        torrent.Log($"checked: {torrent.Have.SetCount}/{torrent.Have.Length} pieces present");
    }

    private void MarkVerified(int piece)
    {
        if (torrent.Have[piece]) return;
        torrent.Have[piece] = true;
        if (torrent.IsWanted(piece)) torrent.VerifiedBytes += torrent.Torrent!.GetPieceSize(piece);
        availability.OnPieceVerified(piece);
    }

    private async Task RunAsync(CancellationToken stop)
    {
        ITorrentDisk storage = torrent.Storage!;
        TorrentEvent outcome;
        try
        {
            ResumeData? data = resume.Load(storage);
            BitField verified = await CheckFilesAsync(storage, data, stop).ConfigureAwait(false);
            await ReportExistingDataAsync(storage, verified, stop).ConfigureAwait(false);
            if (!torrent.Options.SeedOnly)
            {
                // Bytes past a file's end are no part of the torrent: a finished download is exactly its data.
                await storage.TrimOversizedFilesAsync(stop).ConfigureAwait(false);
                // Zero-length files never receive a block, so nothing else would create them.
                await storage.CreateEmptyFilesAsync(stop).ConfigureAwait(false);
            }
            outcome = new TorrentEvent { Kind = TorrentEventKind.CheckFinished, Payload = new CheckOutcome(verified, data is not null) };
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return;
        }
        catch (Exception ex)
        {
            outcome = new TorrentEvent { Kind = TorrentEventKind.CheckFinished, Error = ex };
        }
        await actor.PostAsync(outcome).ConfigureAwait(false);
    }

    /// <summary>
    /// Checks the files; when the process runs out of file descriptors (the session's file pool already closed
    /// every idle file), waits and checks again rather than failing the torrent: the shortage is the session's, and
    /// passes as other torrents' jobs end and connections close.
    /// </summary>
    private async Task<BitField> CheckFilesAsync(ITorrentDisk storage, ResumeData? data, CancellationToken stop)
    {
        TimeSpan wait = TimeSpan.FromSeconds(1);
        while (true)
        {
            try
            {
                return await storage.CheckFilesAsync(data, new Progress(actor), stop).ConfigureAwait(false);
            }
            catch (StorageException e) when (e.Kind == StorageErrorKind.TooManyOpenFiles && !stop.IsCancellationRequested)
            {
                torrent.Log($"check paused: {e.Message}; trying again in {wait.TotalSeconds:0} s");
                await Task.Delay(wait, torrent.Time, stop).ConfigureAwait(false);
                wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
            }
        }
    }

    /// <summary>Logs what the check found that is not the torrent's, and hands it to <see cref="TorrentOptions.DataChecked"/> (before anything is written).</summary>
    private async Task ReportExistingDataAsync(ITorrentDisk storage, BitField verified, CancellationToken stop)
    {
        bool seedOnly = torrent.Options.SeedOnly;
        ExistingData existing = storage.DescribeExistingData(verified);
        foreach (ExistingFileConflict file in existing.Conflicts)
        {
            torrent.Log($"existing {file.Path}: {file.MatchingPieces} of {file.Pieces} of its pieces match" +
                (seedOnly ? "" : file.WillBeWritten ? "; the others will be written" : "") +
                (file.WillBeCut ? $"; {file.Length - file.ExpectedLength} bytes past the torrent's end{(seedOnly ? "" : " will be cut")}" : ""));
        }
        if (torrent.Options.DataChecked is { } hook) await hook(existing, stop).ConfigureAwait(false);
    }

    /// <summary>Posts each batch; a batch lost to a full mailbox costs nothing, the outcome carries every verdict.</summary>
    private sealed class Progress(TorrentActor actor) : IProgress<PieceCheckProgress>
    {
        public void Report(PieceCheckProgress value) => actor.TryPost(new TorrentEvent { Kind = TorrentEventKind.CheckProgress, Payload = value });
    }
}
