using System.CommandLine;
using System.Net;
using Shoal.Cli.Reporting;
using Shoal.Metainfo;
using Shoal.Swarm;

namespace Shoal.Cli.Commands;

/// <summary><c>shoal get FILE|MAGNET</c>: downloads, verifies, then seeds until Ctrl+C (or exits when done).</summary>
internal static class GetCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Build(CliContext context)
    {
        var source = new Argument<string>("FILE|MAGNET") { Description = "A .torrent file (magnet links need BEP 9, not in this build yet)" };
        var output = new Option<string?>("--output", "-o") { Description = "Folder to download into; the data lands in DIR/NAME (default: current folder)", HelpName = "DIR" };
        var exitWhenDone = new Option<bool>("--exit-when-done") { Description = "Exit 0 as soon as all data is downloaded and verified instead of seeding" };
        var network = new NetworkOptions();
        var command = new Command("get", "Download a torrent, then seed it until Ctrl+C") { source, output, exitWhenDone };
        network.AddTo(command);
        command.SetAction((result, cancellationToken) => RunAsync(
            context, result.GetValue(source)!, result.GetValue(output), result.GetValue(exitWhenDone), network.Read(result), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(
        CliContext context, string source, string? output, bool exitWhenDone, NetworkSettings settings, CancellationToken cancellationToken)
    {
        Torrent torrent = await TorrentSource.ResolveForDownloadAsync(source, cancellationToken).ConfigureAwait(false);
        string directory = PrepareDirectory(output);
        IReadOnlyList<IPEndPoint> peers = await settings.ResolvePeersAsync(cancellationToken).ConfigureAwait(false);

        await using ShoalSession session = await settings.StartSessionAsync(cancellationToken).ConfigureAwait(false);
        TorrentHandle handle = await session.AddTorrentAsync(
            torrent, new TorrentOptions { DownloadDirectory = directory, Peers = peers }, cancellationToken).ConfigureAwait(false);

        TextWriter info = settings.Json ? context.Error : context.Out;
        string target = Path.Combine(directory, torrent.Name);
        if (!settings.Quiet)
        {
            await info.WriteLineAsync($"saving to: {target} ({HumanFormat.Size(torrent.TotalSize)})").ConfigureAwait(false);
            await info.WriteLineAsync($"listening: {session.ListenEndPoint}").ConfigureAwait(false);
        }

        bool completed = false;
        StatusDisplay display = StatusDisplay.Choose(context, settings, torrent.Name);
        int exitCode = await TorrentRun.WithDisplayAsync(display, handle, async () =>
        {
            if (!await TorrentRun.WaitForCompletionAsync(handle, cancellationToken).ConfigureAwait(false))
            {
                return ExitCodes.Interrupted;
            }
            completed = true;
            if (exitWhenDone) return ExitCodes.Success;
            await TorrentRun.SeedUntilStoppedAsync(handle, cancellationToken).ConfigureAwait(false);
            return ExitCodes.Success;
        }).ConfigureAwait(false);

        if (completed && !settings.Quiet)
        {
            await info.WriteLineAsync($"done: {target} is complete and verified").ConfigureAwait(false);
        }
        return exitCode;
    }

    private static string PrepareDirectory(string? output)
    {
        string directory;
        try
        {
            directory = Path.GetFullPath(string.IsNullOrEmpty(output) ? "." : output);
            if (File.Exists(directory)) throw new CliException($"--output: '{output}' is a file, not a folder");
            Directory.CreateDirectory(directory);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new CliException($"cannot use '{output}' as the download folder: {ex.Message}", ExitCodes.Usage, ex);
        }
        return directory;
    }
}
