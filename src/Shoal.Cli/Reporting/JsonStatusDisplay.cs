using Shoal.Swarm;

namespace Shoal.Cli.Reporting;

/// <summary>
/// --json: one status object per line on standard output, on a fixed period (a timer, so lines do not drift
/// further apart than the period) and once more at the end.
/// </summary>
internal sealed class JsonStatusDisplay : StatusDisplay
{
    private readonly TextWriter _out;
    private readonly TimeSpan _interval;

    /// <summary>Creates the display.</summary>
    public JsonStatusDisplay(TextWriter output, TimeSpan interval)
    {
        _out = output;
        _interval = interval;
    }

    /// <inheritdoc />
    public override async Task RunAsync(Func<TorrentStatus> poll, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(_interval);
        while (true)
        {
            bool last = stop.IsCancellationRequested;
            await _out.WriteLineAsync(StatusJson.Format(poll())).ConfigureAwait(false);
            await _out.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            if (last) return;
            try
            {
                await timer.WaitForNextTickAsync(stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // one more line with the final status, then out
            }
        }
    }
}
