using System.CommandLine;
using System.Globalization;
using System.Net;
using Shoal.Cli.Tracker;

namespace Shoal.Cli.Commands;

/// <summary><c>shoal tracker</c>: serves a BitTorrent tracker over HTTP and UDP until Ctrl+C.</summary>
internal static class TrackerCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Build(CliContext context)
    {
        Option<int> httpPort = OptionFactory.Int("--http-port", "HTTP port (0 picks a free port)", 6969, 0, 65535);
        Option<int> udpPort = OptionFactory.Int("--udp-port", "UDP port (0 picks a free port)", 6969, 0, 65535);
        Option<IPAddress?> bind = OptionFactory.Address("--bind", "Address to listen on (default 0.0.0.0: all IPv4; :: serves IPv6 and IPv4)");
        var allowList = new Option<string?>("--allow-list")
        {
            Description = "Serve only the info-hashes in FILE (one 40-hex info-hash per line, # comments)",
            HelpName = "FILE",
        };
        Option<int> maxRate = OptionFactory.Int("--max-rate", "Requests per second allowed per address (IPv6: per /64); 0 turns the limit off", 50, 0, 1_000_000);
        var command = new Command("tracker", "Run a BitTorrent tracker (HTTP and UDP announce and scrape) until Ctrl+C")
        {
            httpPort, udpPort, bind, allowList, maxRate,
        };
        command.SetAction((result, cancellationToken) => RunAsync(context, new TrackerHostOptions
        {
            HttpPort = result.GetValue(httpPort),
            UdpPort = result.GetValue(udpPort),
            Bind = result.GetValue(bind) ?? IPAddress.Any,
            AllowList = result.GetValue(allowList) is { } file ? AllowListFile.Load(PathArguments.ExpandHome(file)) : null,
            MaxRequestsPerSecond = result.GetValue(maxRate),
        }, cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(CliContext context, TrackerHostOptions options, CancellationToken cancellationToken)
    {
        await using TrackerHost host = await TrackerHost.StartAsync(options, cancellationToken).ConfigureAwait(false);
        await context.Out.WriteLineAsync($"http: {host.HttpAnnounceUrl}").ConfigureAwait(false);
        await context.Out.WriteLineAsync($"udp: {host.UdpAnnounceUrl}").ConfigureAwait(false);
        await context.Out.FlushAsync(cancellationToken).ConfigureAwait(false);
        if (options.Bind.Equals(IPAddress.Any) || options.Bind.Equals(IPAddress.IPv6Any))
        {
            await context.Error.WriteLineAsync("listening on every address: put this machine's reachable address in torrents").ConfigureAwait(false);
        }
        if (options.AllowList is { } allowed)
        {
            await context.Error.WriteLineAsync($"serving only the {allowed.Count.ToString(CultureInfo.InvariantCulture)} info-hashes of the allow list").ConfigureAwait(false);
        }
        await context.Error.WriteLineAsync("tracker running; press Ctrl+C to stop").ConfigureAwait(false);
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        return ExitCodes.Success;
    }
}
