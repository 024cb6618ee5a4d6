using Shoal.Swarm;

namespace Shoal.Cli.Commands;

/// <summary>
/// <c>--stop-after-idle DURATION</c> (as aria2's <c>--bt-stop-timeout</c>): gives up on a download that has received
/// nothing for that long while it wants data (fetching metadata, downloading, or paused by a disk error). Checking
/// the data already there counts as progress; a finished download is no longer watched.
/// </summary>
internal sealed class IdleWatch
{
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(1);
    private readonly TorrentHandle _handle;
    private readonly TimeSpan _limit;
    private readonly TimeProvider _time;
    private readonly Func<TorrentStatus, string?> _why;

    /// <param name="handle">The download.</param>
    /// <param name="limit">How long without a received byte before giving up.</param>
    /// <param name="time">The clock.</param>
    /// <param name="why">What is wrong with a snapshot (no peer and why), added to the reason.</param>
    public IdleWatch(TorrentHandle handle, TimeSpan limit, TimeProvider time, Func<TorrentStatus, string?> why)
    {
        _handle = handle;
        _limit = limit;
        _time = time;
        _why = why;
    }

    /// <summary>Why the download was given up; null while it was not.</summary>
    public string? Reason { get; private set; }

    /// <summary>Watches until the download completes or <paramref name="stop"/> is cancelled; cancels <paramref name="stop"/> when idle too long.</summary>
    public async Task RunAsync(CancellationTokenSource stop)
    {
        long lastBytes = -1;
        long lastProgress = _time.GetTimestamp();
        try
        {
            while (!_handle.Completion.IsCompleted)
            {
                await Task.Delay(Poll, _time, stop.Token).ConfigureAwait(false);
                TorrentStatus status = _handle.GetStatus();
                long now = _time.GetTimestamp();
                bool wanting = status.State is TorrentState.FetchingMetadata or TorrentState.Downloading or TorrentState.Paused;
                if (!wanting || status.Downloaded != lastBytes)
                {
                    lastBytes = status.Downloaded;
                    lastProgress = now;
                    continue;
                }
                if (_time.GetElapsedTime(lastProgress, now) < _limit) continue;
                string? why = _why(status);
                Reason = $"nothing received for {HumanFormat.Duration(_limit)}{(why is null ? "" : $" ({why})")}; stopped (--stop-after-idle)";
                await stop.CancelAsync().ConfigureAwait(false);
                return;
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }
}
