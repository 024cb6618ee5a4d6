using System.CommandLine;
using System.Net;
using Shoal.Cli.Reporting;
using Shoal.Metainfo;
using Shoal.Storage;
using Shoal.Swarm;

namespace Shoal.Cli.Commands;

/// <summary><c>shoal share PATH</c>: seeds a file or folder until Ctrl+C.</summary>
internal static class ShareCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Build(CliContext context)
    {
        var path = new Argument<string>("PATH") { Description = "File or folder to share" };
        var torrentFile = new Option<string?>("--torrent") { Description = "Use this .torrent (its name must be PATH's last segment) instead of hashing PATH", HelpName = "FILE" };
        var network = new NetworkOptions();
        var command = new Command("share", "Seed a file or folder until Ctrl+C") { path, torrentFile };
        network.AddTo(command);
        command.SetAction((result, cancellationToken) => RunAsync(
            context, result.GetValue(path)!, result.GetValue(torrentFile), network.Read(result), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(CliContext context, string path, string? torrentPath, NetworkSettings settings, CancellationToken cancellationToken)
    {
        try
        {
            string content = PathArguments.ExistingContent(path);
            (string directory, string name) = PathArguments.Split(content);

            Torrent torrent = torrentPath is not null
                ? TorrentSource.LoadTorrentFile(torrentPath)
                : await CreateInMemoryAsync(context, settings, content, name, cancellationToken).ConfigureAwait(false);
            EnsureNameMatches(torrent, name);

            IReadOnlyList<IPEndPoint> peers = await settings.ResolvePeersAsync(cancellationToken).ConfigureAwait(false);
            await using ShoalSession session = await settings.StartSessionAsync(cancellationToken, context.EngineLog).ConfigureAwait(false);
            var checkedData = new TaskCompletionSource<ExistingData>(TaskCreationOptions.RunContinuationsAsynchronously);
            // Seed only: sharing never writes into PATH, whatever the torrent says is there.
            TorrentHandle handle = await session.AddTorrentAsync(torrent, new TorrentOptions
            {
                DownloadDirectory = directory,
                Peers = peers,
                Trackers = settings.Trackers,
                SeedOnly = true,
                DataChecked = (data, _) =>
                {
                    checkedData.TrySetResult(data);
                    return Task.CompletedTask;
                },
            }, cancellationToken).ConfigureAwait(false);

            // Stdout carries what another machine needs; with --json it carries only JSON, so these go to stderr.
            TextWriter info = settings.Json ? context.Error : context.Out;
            // The link names the --tracker URLs too (a loaded .torrent does not hold them), so its users find them.
            MagnetLink magnet = torrent.ToMagnetLink();
            magnet = magnet with { Trackers = [.. magnet.Trackers, .. settings.Trackers.Where(url => !magnet.Trackers.Contains(url)).Distinct()] };
            await info.WriteLineAsync($"magnet: {TerminalText.Escape(magnet.ToString())}").ConfigureAwait(false);
            await info.WriteLineAsync($"listening: {session.ListenEndPoint}").ConfigureAwait(false);
            if (!settings.Quiet && !settings.Json)
            {
                await context.Error.WriteLineAsync($"sharing {TerminalText.Escape(content)}; press Ctrl+C to stop").ConfigureAwait(false);
            }

            StatusDisplay display = StatusDisplay.Choose(context, settings, name, handle);
            await TorrentRun.WithDisplayAsync(display, handle, async () =>
            {
                ExistingData? data = await TorrentRun.WaitForCheckAsync(handle, checkedData.Task, cancellationToken).ConfigureAwait(false);
                if (data is null) return 0;
                if (data.VerifiedPieces < data.PieceCount)
                {
                    throw new CliException(
                        $"{content}: {data.VerifiedPieces} of {data.PieceCount} pieces match this torrent; nothing was written (share seeds only complete data)",
                        ExitCodes.Failure);
                }
                await TorrentRun.SeedUntilStoppedAsync(handle, cancellationToken).ConfigureAwait(false);
                return 0;
            }, settings.Quiet ? null : context.Error, () => session.PortMappings).ConfigureAwait(false);
            return ExitCodes.Success;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return ExitCodes.Success; // stopping a share is the normal way to end it
        }
    }

    /// <summary>A torrent's content is DIR/NAME, so sharing PATH needs a torrent named like PATH's last segment.</summary>
    internal static void EnsureNameMatches(Torrent torrent, string name)
    {
        if (!string.Equals(torrent.Name, name, StringComparison.Ordinal))
        {
            throw new CliException(
                $"the torrent's content is named '{torrent.Name}' but PATH is '{name}'; pass the path of '{torrent.Name}' itself");
        }
    }

    private static Task<Torrent> CreateInMemoryAsync(CliContext context, NetworkSettings settings, string content, string name, CancellationToken cancellationToken)
    {
        var options = new TorrentCreationOptions
        {
            AnnounceTiers = [.. settings.Trackers.Select(url => (IReadOnlyList<string>)[url])],
            CreationDate = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()),
        };
        bool showBar = !settings.Quiet && !settings.Json;
        return HashingProgress.RunAsync(
            showBar ? context.CreateErrorConsole() : null, $"hashing {name}", PathArguments.RequireData(content, content),
            progress => TorrentCreator.CreateAsync(content, options, progress, cancellationToken));
    }
}
