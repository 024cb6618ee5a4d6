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

    /// <summary>The display the settings and the terminal call for.</summary>
    public static StatusDisplay Choose(CliContext context, NetworkSettings settings, string name)
    {
        if (settings.Json) return new JsonStatusDisplay(context.Out, TimeSpan.FromSeconds(1));
        if (settings.Quiet) return new SilentStatusDisplay();
        return context.CreateErrorConsole() is { } console
            ? new LiveStatusDisplay(console, name)
            : new PlainStatusDisplay(context.Error, TimeSpan.FromSeconds(5));
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

    /// <summary>"42.0%  downloading  down 1.20 MiB/s  up 0 B/s  peers 3  eta 0:12".</summary>
    public static string Describe(TorrentStatus status)
        => $"{HumanFormat.Percent(status.Progress)}  {StatusJson.StateName(status.State)}{CheckProgress(status)}  " +
           $"down {HumanFormat.Rate(status.DownloadRate)}  up {HumanFormat.Rate(status.UploadRate)}  " +
           $"peers {status.Peers}{PeerOrigins(status)}  eta {HumanFormat.Duration(status.Eta)}" +
           (status.Error is { } error ? $"  error: {error}" : "");

    /// <summary>" 120/512" while the data is being checked (pieces checked of all), else nothing.</summary>
    private static string CheckProgress(TorrentStatus status) =>
        status.State == TorrentState.Checking && status.PieceCount > 0 ? $" {status.CheckedPieces}/{status.PieceCount}" : "";
}
