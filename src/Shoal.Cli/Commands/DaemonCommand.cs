using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Shoal.Cli.Remote;
using Shoal.Daemon;

namespace Shoal.Cli.Commands;

/// <summary><c>shoal daemon</c>: runs the long-lived client with its HTTP interface until Ctrl+C or SIGTERM.</summary>
internal static class DaemonCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Build(CliContext context)
    {
        var dataDirectory = OptionFactory.DataDirectory();
        var port = OptionFactory.Port(6881);
        port.Description = "Peer port, TCP and the DHT's UDP (0 picks a free port)";
        var webPort = new Option<int>("--web-port")
        {
            Description = "Port of the HTTP interface (0 picks a free port)",
            HelpName = "N",
            DefaultValueFactory = _ => 9091,
            CustomParser = result =>
            {
                string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
                if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value <= 65535) return value;
                result.AddError($"--web-port: '{text}' is not a port number (0 to 65535)");
                return 0;
            },
        };
        var webBind = OptionFactory.Address("--web-bind", "Address of the HTTP interface (default 127.0.0.1; any other needs a password)");
        var bind = OptionFactory.Address("--bind", "Address the peer listener binds to (default: all addresses)");
        var maxUp = OptionFactory.Size("--max-upload-rate", "Upload cap of the daemon in bytes per second (stored as the upload_limit setting)");
        var maxDown = OptionFactory.Size("--max-download-rate", "Download cap of the daemon in bytes per second (stored as the download_limit setting)");
        var noDht = new Option<bool>("--no-dht") { Description = "Turn the DHT off (stored as the dht setting)" };
        var noLsd = new Option<bool>("--no-lsd") { Description = "Turn local service discovery off (stored as the lsd setting)" };
        var encryption = OptionFactory.Encryption();
        var noPortMapping = new Option<bool>("--no-port-mapping") { Description = "Do not map the peer port on the router (stored as the port_mapping setting)" };
        var dhtBootstrap = DhtCommand.Bootstrap();
        var watch = new Option<string?>("--watch") { Description = "Folder to watch for .torrent files (added, then renamed .added; broken ones .invalid)", HelpName = "DIR" };
        var downloads = new Option<string?>("--download-dir", "-o") { Description = "Default download folder (default: ~/Downloads)", HelpName = "DIR" };
        var roots = new Option<string[]>("--download-root")
        {
            Description = "A folder the API may put downloads in (repeatable; default: the default download folder only)",
            HelpName = "DIR",
            Arity = ArgumentArity.ZeroOrMore,
            DefaultValueFactory = _ => [],
        };
        var allowHosts = new Option<string[]>("--allow-host")
        {
            Description = "A host name the HTTP interface answers to besides IP addresses and localhost (repeatable)",
            HelpName = "NAME",
            Arity = ArgumentArity.ZeroOrMore,
            DefaultValueFactory = _ => [],
        };
        var passwordFile = new Option<string?>("--password-file") { Description = $"File whose first line is the password to set (or ${PasswordSource.EnvironmentVariable}); only its salted hash is stored", HelpName = "FILE" };

        var command = new Command("daemon", "Run the Shoal daemon: many torrents, kept across restarts, driven over HTTP (and by shoal add, list, ...)")
        {
            dataDirectory, port, webPort, webBind, bind, maxUp, maxDown, noDht, noLsd, encryption, noPortMapping, dhtBootstrap, watch, downloads, roots, allowHosts, passwordFile,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            var overrides = new Dictionary<string, string>(StringComparer.Ordinal);
            if (result.GetResult(maxUp) is not null) overrides["upload_limit"] = Json(result.GetValue(maxUp));
            if (result.GetResult(maxDown) is not null) overrides["download_limit"] = Json(result.GetValue(maxDown));
            if (result.GetValue(noDht)) overrides["dht"] = "false";
            if (result.GetValue(noLsd)) overrides["lsd"] = "false";
            if (result.GetValue(noPortMapping)) overrides["port_mapping"] = "false";
            if (result.GetResult(encryption) is not null) overrides["encryption"] = "\"" + result.GetValue(encryption).ToString().ToLowerInvariant() + "\"";
            string[] hosts = result.GetValue(allowHosts) ?? [];
            if (hosts.Length > 0) overrides["allowed_hosts"] = new JsonArray([.. hosts.Select(h => JsonValue.Create(h))]).ToJsonString();
            var options = new DaemonOptions
            {
                DataDirectory = ShoalDataDirectory.Resolve(result.GetValue(dataDirectory)),
                PeerPort = result.GetValue(port),
                PeerBind = result.GetValue(bind) ?? IPAddress.Any,
                WebPort = result.GetValue(webPort),
                WebBind = result.GetValue(webBind) ?? IPAddress.Loopback,
                Password = PasswordSource.Read(result.GetValue(passwordFile)),
                WatchDirectory = Full(result.GetValue(watch), "--watch"),
                DownloadRoots = [.. (result.GetValue(roots) ?? []).Select(r => Full(r, "--download-root")!)],
                DefaultSavePath = Full(result.GetValue(downloads), "--download-dir"),
                SettingOverrides = overrides,
                DhtBootstrap = result.GetValue(dhtBootstrap) ?? [],
                MinimumLogLevel = context.Verbose ? LogLevel.Debug : LogLevel.Information,
            };
            return await RunAsync(context, options, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    private static string Json(long value) => value == OptionFactory.Unlimited ? "0" : value.ToString(CultureInfo.InvariantCulture);

    private static string? Full(string? path, string option)
    {
        if (string.IsNullOrWhiteSpace(path)) return null;
        try
        {
            return Path.GetFullPath(PathArguments.ExpandHome(path));
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new CliException($"{option}: '{path}' is not a usable folder: {ex.Message}", ExitCodes.Usage, ex);
        }
    }

    private static async Task<int> RunAsync(CliContext context, DaemonOptions options, CancellationToken cancellationToken)
    {
        DaemonHost host;
        try
        {
            host = await DaemonHost.StartAsync(options, cancellationToken).ConfigureAwait(false);
        }
        catch (DaemonStartException ex)
        {
            throw new CliException(ex.Message, ExitCodes.Failure, ex);
        }
        catch (SocketException ex)
        {
            throw NetworkSettings.DescribeBindFailure(ex, options.PeerBind, options.PeerPort);
        }
        await using (host.ConfigureAwait(false))
        {
            await context.Out.WriteLineAsync($"shoal daemon: HTTP interface at {host.WebAddress} (peer port {host.PeerPort}, data in {options.DataDirectory})").ConfigureAwait(false);
            await context.Out.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
            await context.Error.WriteLineAsync("shoal daemon: stopping (saving every torrent's state)").ConfigureAwait(false);
        }
        await context.Out.WriteLineAsync("shoal daemon: stopped").ConfigureAwait(false);
        return ExitCodes.Success;
    }
}
