using System.CommandLine;
using Shoal.Daemon.Service;

namespace Shoal.Cli.Remote;

/// <summary>The read-only client verbs: list, show, stats.</summary>
internal static class ClientReports
{
    public static Command List(CliContext context)
    {
        var json = new Option<bool>("--json") { Description = "Print the daemon's JSON rows (id, info_hash, name, state, progress, down_rate, up_rate, ratio, ...)" };
        var state = new Option<string?>("--state") { Description = "Only torrents in this state or group (downloading, seeding, paused, queued, active, completed, error, ...)", HelpName = "STATE" };
        var remote = new RemoteOptions();
        var command = new Command("list", "List the daemon's torrents") { json, state };
        remote.AddTo(command);
        command.SetAction(async (result, cancellationToken) =>
        {
            using DaemonClient client = await remote.ConnectAsync(result, cancellationToken).ConfigureAwait(false);
            string path = "api/v1/torrents" + (result.GetValue(state) is { Length: > 0 } s ? "?state=" + Uri.EscapeDataString(s) : "");
            if (result.GetValue(json))
            {
                await context.Out.WriteLineAsync(await client.GetTextAsync(path, cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);
                return ExitCodes.Success;
            }
            IReadOnlyList<TorrentView> torrents = await client.GetAsync(path, ServiceJson.Default.IReadOnlyListTorrentView, cancellationToken).ConfigureAwait(false);
            TorrentPrinter.List(context.Out, torrents);
            return ExitCodes.Success;
        });
        return command;
    }

    public static Command Show(CliContext context)
    {
        var id = new Argument<string>("ID") { Description = "The torrent: its id, info-hash or a unique prefix" };
        var remote = new RemoteOptions();
        var command = new Command("show", "Show one torrent of the daemon: status, files with numbers and priorities, peers, trackers") { id };
        remote.AddTo(command);
        command.SetAction(async (result, cancellationToken) =>
        {
            using DaemonClient client = await remote.ConnectAsync(result, cancellationToken).ConfigureAwait(false);
            string torrent = Uri.EscapeDataString(result.GetValue(id)!);
            TorrentDetails details = await client.GetAsync($"api/v1/torrents/{torrent}", ServiceJson.Default.TorrentDetails, cancellationToken).ConfigureAwait(false);
            // Later calls name it by id: a prefix that matched one torrent a moment ago could match two now.
            string byId = details.Torrent.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
            IReadOnlyList<FileView> files = await client.GetAsync($"api/v1/torrents/{byId}/files", ServiceJson.Default.IReadOnlyListFileView, cancellationToken).ConfigureAwait(false);
            IReadOnlyList<PeerView> peers = await client.GetAsync($"api/v1/torrents/{byId}/peers", ServiceJson.Default.IReadOnlyListPeerView, cancellationToken).ConfigureAwait(false);
            IReadOnlyList<TrackerView> trackers = await client.GetAsync($"api/v1/torrents/{byId}/trackers", ServiceJson.Default.IReadOnlyListTrackerView, cancellationToken).ConfigureAwait(false);
            TorrentPrinter.Show(context.Out, details, files, peers, trackers);
            return ExitCodes.Success;
        });
        return command;
    }

    public static Command Stats(CliContext context)
    {
        var remote = new RemoteOptions();
        var command = new Command("stats", "Show the daemon's totals: rates, torrents by state, peers, DHT nodes, free space");
        remote.AddTo(command);
        command.SetAction(async (result, cancellationToken) =>
        {
            using DaemonClient client = await remote.ConnectAsync(result, cancellationToken).ConfigureAwait(false);
            TorrentPrinter.Stats(context.Out, await client.GetAsync("api/v1/stats", ServiceJson.Default.SessionStatsView, cancellationToken).ConfigureAwait(false));
            return ExitCodes.Success;
        });
        return command;
    }
}
