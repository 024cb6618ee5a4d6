using Shoal.Swarm;

namespace Shoal.Cli.Reporting;

/// <summary>
/// Tells the user when a tracker fails (with the tracker's own failure reason when it gave one) and when it
/// works again: one line each time a tracker's state changes, never a line per retry.
/// </summary>
internal static class TrackerReporter
{
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(1);

    /// <summary>Watches <paramref name="handle"/>'s trackers until <paramref name="stop"/> is cancelled.</summary>
    public static async Task RunAsync(TorrentHandle handle, TextWriter output, CancellationToken stop)
    {
        var lastErrors = new Dictionary<Uri, string?>();
        using var timer = new PeriodicTimer(Poll);
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                foreach (Shoal.Trackers.TrackerStatus tracker in handle.GetTrackers())
                {
                    lastErrors.TryGetValue(tracker.Url, out string? previous);
                    string? error = tracker.LastError;
                    if (error == previous) continue;
                    lastErrors[tracker.Url] = error;
                    if (error is not null)
                        await output.WriteLineAsync($"shoal: tracker {TerminalText.Escape(tracker.Url.ToString())}: {TerminalText.Escape(ErrorReporter.OneLine(error))}").ConfigureAwait(false);
                    else if (tracker.IsWorking)
                        await output.WriteLineAsync($"shoal: tracker {TerminalText.Escape(tracker.Url.ToString())}: working").ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }
}
