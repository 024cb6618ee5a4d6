using Shoal.Swarm;

namespace Shoal.Cli.Reporting;

/// <summary>Standard error is not a terminal: a plain status line now and then, and on every change of state or problem.</summary>
internal sealed class PlainStatusDisplay : StatusDisplay
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(250);
    private readonly TextWriter _error;
    private readonly TimeSpan _interval;

    /// <summary>Creates the display.</summary>
    public PlainStatusDisplay(TextWriter error, TimeSpan interval)
    {
        _error = error;
        _interval = interval;
    }

    /// <inheritdoc />
    public override async Task RunAsync(Func<TorrentStatus> poll, CancellationToken stop)
    {
        TorrentState? lastState = null;
        string? lastProblem = null;
        long lastPrinted = 0;
        while (true)
        {
            bool last = stop.IsCancellationRequested;
            TorrentStatus status = poll();
            string? problem = Problem?.Invoke(status);
            long now = Environment.TickCount64;
            if (last || status.State != lastState || problem != lastProblem || now - lastPrinted >= (long)_interval.TotalMilliseconds)
            {
                await _error.WriteLineAsync(Describe(status, problem)).ConfigureAwait(false);
                lastState = status.State;
                lastProblem = problem;
                lastPrinted = now;
            }
            if (last) return;
            await PauseAsync(Tick, stop).ConfigureAwait(false);
        }
    }
}
