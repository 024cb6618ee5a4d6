using Shoal.Storage;

namespace Shoal.Swarm;

/// <summary>What a finished data check found.</summary>
/// <param name="Verified">The verified pieces.</param>
/// <param name="UsedResume">True when resume data was trusted.</param>
internal sealed record CheckOutcome(BitField Verified, bool UsedResume);

/// <summary>
/// A torrent's data check as a job beside its actor: loads the resume data, checks the files through the disk path
/// (each batch's verdicts posted to the mailbox as they come, so the actor can tell peers what is verified so far and
/// serve it), creates the zero-length files, and posts the outcome. The actor keeps serving its mailbox meanwhile.
/// </summary>
internal sealed class TorrentCheck(TorrentContext torrent, ResumeSaver resume, TorrentActor actor)
{
    private Task _running = Task.CompletedTask;

    /// <summary>Starts the check of <see cref="TorrentContext.Storage"/>.</summary>
    public void Start(CancellationToken stop) => _running = Task.Run(() => RunAsync(stop), CancellationToken.None);

    /// <summary>Completes when the check has ended (never faults): the storage may be closed after it.</summary>
    public Task Completion => _running;

    private async Task RunAsync(CancellationToken stop)
    {
        ITorrentDisk storage = torrent.Storage!;
        TorrentEvent outcome;
        try
        {
            ResumeData? data = resume.Load(storage);
            BitField verified = await storage.CheckFilesAsync(data, new Progress(actor), stop).ConfigureAwait(false);
            // Zero-length files never receive a block, so nothing else would create them.
            await storage.CreateEmptyFilesAsync(stop).ConfigureAwait(false);
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

    /// <summary>Posts each batch; a batch lost to a full mailbox costs nothing, the outcome carries every verdict.</summary>
    private sealed class Progress(TorrentActor actor) : IProgress<PieceCheckProgress>
    {
        public void Report(PieceCheckProgress value) => actor.TryPost(new TorrentEvent { Kind = TorrentEventKind.CheckProgress, Payload = value });
    }
}
