using Shoal.Metainfo;

namespace Shoal.Swarm;

// The tasks the torrent's callers wait on (checked, download finished, metadata), made only when someone asks: in a
// session of thousands of seeds most are never looked at, and a completion source with its task is 88 bytes each.
internal sealed partial class TorrentActor
{
    private const int Pending = 0, Happened = 1, Cancelled = 2;

    private TaskCompletionSource? _checked;
    private int _checkedOutcome;
    private TaskCompletionSource? _downloadFinished;
    private int _downloadFinishedOutcome;
    private TaskCompletionSource<Torrent>? _metadata;
    private int _metadataOutcome; // Happened once _t.Torrent is known

    /// <summary>
    /// Completes once the data on disk is checked and <see cref="Status"/> tells what is verified (so a tracker's
    /// first announce can say how much is left); cancelled when the torrent stops or fails first.
    /// </summary>
    public Task Checked => Observe(ref _checked, ref _checkedOutcome);

    /// <summary>Completes when a download finishes in this run (never, for a torrent that started complete).</summary>
    public Task DownloadFinished => Observe(ref _downloadFinished, ref _downloadFinishedOutcome);

    /// <summary>Completes with the torrent once its metadata is known (at once for a .torrent).</summary>
    public Task<Torrent> Metadata
    {
        get
        {
            TaskCompletionSource<Torrent> source = Volatile.Read(ref _metadata)
                ?? Interlocked.CompareExchange(ref _metadata, new TaskCompletionSource<Torrent>(TaskCreationOptions.RunContinuationsAsynchronously), null)
                ?? _metadata!;
            int outcome = Volatile.Read(ref _metadataOutcome);
            if (outcome == Happened) source.TrySetResult(_t.Torrent!);
            else if (outcome == Cancelled) source.TrySetCanceled();
            return source.Task;
        }
    }

    /// <summary>Records what happened (once: the first outcome stays) and tells whoever already waits.</summary>
    private static void Settle(ref TaskCompletionSource? source, ref int outcome, int happened)
    {
        if (Interlocked.CompareExchange(ref outcome, happened, Pending) != Pending) return;
        if (Volatile.Read(ref source) is { } made) Apply(made, happened);
    }

    private void SettleMetadata(int happened)
    {
        if (Interlocked.CompareExchange(ref _metadataOutcome, happened, Pending) != Pending) return;
        if (Volatile.Read(ref _metadata) is not { } made) return;
        if (happened == Happened) made.TrySetResult(_t.Torrent!);
        else made.TrySetCanceled();
    }

    // Either side may come first: the waiter makes the source and then reads the outcome, the actor records the
    // outcome and then reads the source (both through interlocked operations), so at least one of them applies it.
    private static Task Observe(ref TaskCompletionSource? source, ref int outcome)
    {
        TaskCompletionSource made = Made(ref source);
        Apply(made, Volatile.Read(ref outcome));
        return made.Task;
    }

    private static TaskCompletionSource Made(ref TaskCompletionSource? field) =>
        Volatile.Read(ref field)
        ?? Interlocked.CompareExchange(ref field, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), null)
        ?? field!;

    private static void Apply(TaskCompletionSource source, int outcome)
    {
        if (outcome == Happened) source.TrySetResult();
        else if (outcome == Cancelled) source.TrySetCanceled();
    }
}
