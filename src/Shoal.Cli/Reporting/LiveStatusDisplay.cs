using Shoal.Swarm;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Shoal.Cli.Reporting;

/// <summary>A Spectre.Console progress bar with percent, rates, peers and ETA.</summary>
internal sealed class LiveStatusDisplay : StatusDisplay
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(250);
    private readonly IAnsiConsole _console;
    private readonly string _name;

    /// <summary>Creates the display.</summary>
    public LiveStatusDisplay(IAnsiConsole console, string name)
    {
        _console = console;
        _name = name;
    }

    /// <inheritdoc />
    public override async Task RunAsync(Func<TorrentStatus> poll, CancellationToken stop)
    {
        var stats = new StatsColumn();
        await _console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), stats)
            .StartAsync(async ctx =>
            {
                ProgressTask task = ctx.AddTask(Markup.Escape(Shorten(_name, 32)), maxValue: 1000);
                while (true)
                {
                    bool last = stop.IsCancellationRequested;
                    TorrentStatus status = poll();
                    task.Value = Math.Clamp(status.Progress, 0, 1) * 1000;
                    stats.Text =
                        $"{StatusJson.StateName(status.State)}  ↓ {HumanFormat.Rate(status.DownloadRate)}  ↑ {HumanFormat.Rate(status.UploadRate)}" +
                        $"  {status.Peers} peers{Markup.Escape(StatusDisplay.PeerOrigins(status))}  ETA {HumanFormat.Duration(status.Eta)}";
                    ctx.Refresh();
                    if (last) return;
                    await PauseAsync(Tick, stop).ConfigureAwait(false);
                }
            }).ConfigureAwait(false);
    }

    private static string Shorten(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";

    /// <summary>A column showing text the display loop updates.</summary>
    private sealed class StatsColumn : ProgressColumn
    {
        private volatile string _text = "";

        public string Text
        {
            get => _text;
            set => _text = value;
        }

        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) => new Text(_text);
    }
}
