namespace Shoal.Swarm;

/// <summary>
/// A user's call (pause, priorities, a read waiting for pieces...) carried through the torrent's mailbox and run on
/// its loop, so it touches the torrent's state without a lock; the caller awaits <see cref="TorrentControl{T}.Task"/>.
/// A call still in the mailbox when the torrent stops is abandoned: the caller gets an
/// <see cref="InvalidOperationException"/>, never a hang.
/// </summary>
internal abstract class TorrentControl
{
    public abstract void Run();

    public abstract void Abandon();
}

/// <inheritdoc />
internal sealed class TorrentControl<T>(Func<T> work) : TorrentControl
{
    private readonly TaskCompletionSource<T> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<T> Task => _done.Task;

    public override void Run()
    {
        try
        {
            _done.TrySetResult(work());
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
        {
            // The caller's mistake (a file index out of range, a skipped file read): theirs to see, the torrent goes on.
            _done.TrySetException(ex);
        }
    }

    public override void Abandon() => _done.TrySetException(new InvalidOperationException("the torrent has stopped"));
}
