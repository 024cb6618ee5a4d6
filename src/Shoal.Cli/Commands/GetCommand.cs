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
        var source = new Argument<string>("FILE|MAGNET") { Description = "A .torrent file or a magnet link" };
        var output = new Option<string?>("--output", "-o") { Description = "Folder to download into; the data lands in DIR/NAME (default: current folder)", HelpName = "DIR" };
        var exitWhenDone = new Option<bool>("--exit-when-done") { Description = "Exit 0 as soon as all data is downloaded and verified instead of seeding" };
        Option<TimeSpan?> stopAfterIdle = OptionFactory.Duration("--stop-after-idle",
            "Give up (exit 1) when nothing has been received for this long while downloading, e.g. 10m");
        var network = new NetworkOptions();
        var command = new Command("get", "Download a torrent, then seed it until Ctrl+C") { source, output, exitWhenDone, stopAfterIdle };
        network.AddTo(command);
        command.SetAction((result, cancellationToken) => RunAsync(
            context, result.GetValue(source)!, result.GetValue(output), result.GetValue(exitWhenDone), result.GetValue(stopAfterIdle),
            network.Read(result), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(
        CliContext context, string source, string? output, bool exitWhenDone, TimeSpan? stopAfterIdle, NetworkSettings settings,
        CancellationToken cancellationToken)
    {
        MagnetLink? magnet = TorrentSource.IsMagnet(source) ? TorrentSource.ParseMagnet(source) : null;
        Torrent? torrent = magnet is null ? TorrentSource.LoadTorrentFile(source) : null;
        string directory = PrepareDirectory(output);
        IReadOnlyList<IPEndPoint> peers = await settings.ResolvePeersAsync(cancellationToken).ConfigureAwait(false);

        await using ShoalSession session = await settings.StartSessionAsync(cancellationToken, context.EngineLog).ConfigureAwait(false);
        var options = new TorrentOptions
        {
            DownloadDirectory = directory,
            Peers = peers,
            Trackers = settings.Trackers,
            // Told before anything is written: what was there that is not the torrent's.
            DataChecked = (data, _) => ExistingDataNotice.WriteAsync(context.Error, data),
        };
        TorrentHandle handle = torrent is not null
            ? await session.AddTorrentAsync(torrent, options, cancellationToken).ConfigureAwait(false)
            : await session.AddMagnetAsync(magnet!, options, cancellationToken).ConfigureAwait(false);

        TextWriter info = settings.Json ? context.Error : context.Out;
        string name = torrent?.Name ?? magnet!.DisplayName ?? magnet!.InfoHash.ToHex();
        if (!settings.Quiet)
        {
            if (torrent is not null) await info.WriteLineAsync($"saving to: {TerminalText.Escape(Path.Combine(directory, torrent.Name))} ({HumanFormat.Size(torrent.TotalSize)})").ConfigureAwait(false);
            else await info.WriteLineAsync($"fetching metadata of {magnet!.InfoHash.ToHex()} from peers").ConfigureAwait(false);
            await info.WriteLineAsync($"listening: {session.ListenEndPoint}").ConfigureAwait(false);
        }

        bool completed = false;
        string? target = torrent is null ? null : Path.Combine(directory, torrent.Name);
        StatusDisplay display = StatusDisplay.Choose(context, settings, name, handle);
        // --stop-after-idle ends the wait for data the way Ctrl+C would, then says why.
        using var waitStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        IdleWatch? idle = stopAfterIdle is { } limit
            ? new IdleWatch(handle, limit, TimeProvider.System, StatusDisplay.ProblemFor(settings, handle))
            : null;
        Task watching = idle?.RunAsync(waitStop) ?? Task.CompletedTask;
        int exitCode;
        try
        {
            exitCode = await TorrentRun.WithDisplayAsync(display, handle, async () =>
            {
                if (torrent is null)
                {
                    Torrent? fetched = await TorrentRun.WaitForMetadataAsync(handle, waitStop.Token).ConfigureAwait(false);
                    if (idle?.Reason is { } idleMetadata) throw new CliException(idleMetadata, ExitCodes.Failure);
                    if (fetched is null) return ExitCodes.Interrupted;
                    target = Path.Combine(directory, fetched.Name);
                    if (!settings.Quiet) await info.WriteLineAsync($"saving to: {TerminalText.Escape(target)} ({HumanFormat.Size(fetched.TotalSize)})").ConfigureAwait(false);
                }
                if (!await TorrentRun.WaitForCompletionAsync(handle, waitStop.Token).ConfigureAwait(false))
                {
                    if (idle?.Reason is { } idleData) throw new CliException(idleData, ExitCodes.Failure);
                    return ExitCodes.Interrupted;
                }
                completed = true;
                if (exitWhenDone) return ExitCodes.Success;
                await TorrentRun.SeedUntilStoppedAsync(handle, cancellationToken).ConfigureAwait(false);
                return ExitCodes.Success;
            }, settings.Quiet ? null : context.Error, () => session.PortMappings).ConfigureAwait(false);
        }
        finally
        {
            await waitStop.CancelAsync().ConfigureAwait(false);
            await watching.ConfigureAwait(false);
        }

        if (completed && !settings.Quiet)
        {
            await info.WriteLineAsync($"done: {TerminalText.Escape(target)} is complete and verified").ConfigureAwait(false);
        }
        return exitCode;
    }

    private static string PrepareDirectory(string? output)
    {
        string directory;
        try
        {
            directory = Path.GetFullPath(string.IsNullOrEmpty(output) ? "." : PathArguments.ExpandHome(output));
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
