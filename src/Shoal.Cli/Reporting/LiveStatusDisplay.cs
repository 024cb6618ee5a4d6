using Shoal.Swarm;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Shoal.Cli.Reporting;

/// <summary>
/// The live display on a terminal: the name with a bar and the percentage, a line of rates and peers, and a line that
/// says what is wrong when something is (paused by an error, no peer connected and why). Every line is cut to the
/// terminal's width, so nothing wraps in 80 columns.
/// </summary>
internal sealed class LiveStatusDisplay : StatusDisplay
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(250);
    private readonly IAnsiConsole _console;
    private readonly string _name;

    /// <summary>Creates the display.</summary>
    public LiveStatusDisplay(IAnsiConsole console, string name)
    {
        _console = console;
        _name = TerminalText.Escape(name);
    }

    /// <inheritdoc />
    public override async Task RunAsync(Func<TorrentStatus> poll, CancellationToken stop)
    {
        await _console.Live(Render(poll())).AutoClear(false).StartAsync(async ctx =>
        {
            while (true)
            {
                bool last = stop.IsCancellationRequested;
                ctx.UpdateTarget(Render(poll()));
                ctx.Refresh();
                if (last) return;
                await PauseAsync(Tick, stop).ConfigureAwait(false);
            }
        }).ConfigureAwait(false);
    }

    private IRenderable Render(TorrentStatus status)
    {
        IReadOnlyList<string> lines = Lines(status, _name, Problem?.Invoke(status), _console.Profile.Width);
        return new Rows(lines.Select(line => new Text(line)));
    }

    /// <summary>The lines shown for <paramref name="status"/>, each at most <paramref name="width"/> columns.</summary>
    internal static IReadOnlyList<string> Lines(TorrentStatus status, string name, string? problem, int width)
    {
        width = Math.Max(20, width - 1); // the last column stays empty: some terminals wrap on it
        string percent = HumanFormat.Percent(status.Progress);
        int barWidth = Math.Clamp(width / 3, 10, 30);
        int nameWidth = Math.Max(1, width - barWidth - percent.Length - 2);
        var lines = new List<string>(3)
        {
            $"{StatusText.Fit(name, nameWidth).PadRight(nameWidth)} {Bar(status.Progress, barWidth)} {percent}",
            StatusText.Fit(StatusText.Summary(status, arrows: true), width),
        };
        if (problem is not null) lines.Add(StatusText.Fit(problem, width));
        return lines;
    }

    private static string Bar(double progress, int width)
    {
        int filled = (int)Math.Round(Math.Clamp(double.IsFinite(progress) ? progress : 0, 0, 1) * width);
        return new string('█', filled) + new string('░', width - filled);
    }
}
