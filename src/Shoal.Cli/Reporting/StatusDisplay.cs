using Shoal.Cli.Commands;
using Shoal.Swarm;

namespace Shoal.Cli.Reporting;

/// <summary>Shows a torrent's status while it runs: a live bar, plain lines, JSON lines, or nothing.</summary>
internal abstract class StatusDisplay
{
    /// <summary>
    /// Polls <paramref name="poll"/> and shows it until <paramref name="stop"/> is cancelled, then shows the last
    /// status once more and returns. Does not throw on <paramref name="stop"/>.
    /// </summary>
    public abstract Task RunAsync(Func<TorrentStatus> poll, CancellationToken stop);

    /// <summary>The display the settings and the terminal call for, telling what is wrong with <paramref name="handle"/> when something is.</summary>
    public static StatusDisplay Choose(CliContext context, NetworkSettings settings, string name, TorrentHandle handle)
    {
        if (settings.Json) return new JsonStatusDisplay(context.Out, TimeSpan.FromSeconds(1));
        if (settings.Quiet) return new SilentStatusDisplay();
        StatusDisplay display = context.CreateErrorConsole() is { } console
            ? new LiveStatusDisplay(console, name)
            : new PlainStatusDisplay(context.Error, TimeSpan.FromSeconds(5));
        display.Problem = ProblemFor(settings, handle);
        return display;
    }

    /// <summary>What is wrong with a snapshot of <paramref name="handle"/> (see <see cref="StatusText.Problem"/>), knowing the sources turned off.</summary>
    public static Func<TorrentStatus, string?> ProblemFor(NetworkSettings settings, TorrentHandle handle)
    {
        var off = new List<string>(2);
        if (settings.NoDht) off.Add("DHT");
        if (settings.NoLsd) off.Add("local discovery");
        var sources = new PeerSources(off);
        return status => StatusText.Problem(status, handle.GetTrackers(), sources, handle.GetWebSeeds());
    }

    /// <summary>Waits <paramref name="delay"/> or until <paramref name="stop"/>; never throws.</summary>
    protected static async Task PauseAsync(TimeSpan delay, CancellationToken stop)
    {
        try
        {
            await Task.Delay(delay, stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // stopping is the normal way out of a display loop
        }
    }

    /// <summary>
    /// What is wrong with a snapshot (paused or stopped by an error, no peer and why), shown with it; null shows
    /// nothing. Set by the command, which knows the trackers and the sources turned off.
    /// </summary>
    public Func<TorrentStatus, string?>? Problem { get; set; }

    /// <summary>
    /// " (tracker 2, dht 1; 2 uTP, 1 TCP; 2 encrypted)" — where the peers came from, what carries their connections and
    /// how many run MSE/PE, or nothing when there are no peers.
    /// </summary>
    public static string PeerOrigins(TorrentStatus status)
    {
        if (status.Peers == 0 || status.Sources is null) return "";
        string transports = status.Transports is { } counts ? "; " + counts.DescribePeers() : "";
        string encrypted = status.EncryptedPeers > 0 ? $"; {status.EncryptedPeers} encrypted" : "";
        return $" ({status.Sources}{transports}{encrypted})";
    }

    /// <summary>"42.0%  downloading  down 1.20 MiB/s  up 0 B/s  3 peers (tracker 2)  ETA 0:12", then the problem if any.</summary>
    public static string Describe(TorrentStatus status, string? problem = null)
        => $"{HumanFormat.Percent(status.Progress)}  {StatusText.Summary(status, arrows: false)}" + (problem is null ? "" : $"  ({problem})");
}
