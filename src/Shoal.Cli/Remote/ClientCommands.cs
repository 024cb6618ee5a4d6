using System.CommandLine;
using System.Globalization;
using Shoal.Daemon.Http;
using Shoal.Daemon.Service;

namespace Shoal.Cli.Remote;

/// <summary>
/// The verbs that drive a running daemon over its native API: add, list, show, pause, resume, recheck, remove, prio,
/// limit and stats. A torrent is named by its id (the list's number), its info-hash, or a unique prefix of it.
/// </summary>
internal static class ClientCommands
{
    /// <summary>Adds every client verb to <paramref name="root"/>.</summary>
    public static void AddTo(RootCommand root, CliContext context)
    {
        root.Subcommands.Add(Add(context));
        root.Subcommands.Add(ClientReports.List(context));
        root.Subcommands.Add(ClientReports.Show(context));
        root.Subcommands.Add(Action(context, "pause", "Pause torrents in the daemon (no connections; data and progress kept)", "api/v1/torrents/pause"));
        root.Subcommands.Add(Action(context, "resume", "Resume paused torrents in the daemon (they run when the queue has room)", "api/v1/torrents/resume"));
        root.Subcommands.Add(Action(context, "recheck", "Check the data of torrents in the daemon again", "api/v1/torrents/recheck"));
        root.Subcommands.Add(Remove(context));
        root.Subcommands.Add(Priority(context));
        root.Subcommands.Add(Limit(context));
        root.Subcommands.Add(ClientReports.Stats(context));
    }

    private static Argument<string[]> Ids(string description = "Torrent ids, info-hashes or unique prefixes, or 'all'") => new("ID")
    {
        Description = description,
        Arity = ArgumentArity.OneOrMore,
    };

    private static Command Add(CliContext context)
    {
        var sources = new Argument<string[]>("FILE|MAGNET|URL") { Description = "A .torrent file, a magnet link or an http(s) URL of a .torrent", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string?>("--output", "-o") { Description = "Folder on the daemon's machine to download into (default: the daemon's default folder)", HelpName = "DIR" };
        var paused = new Option<bool>("--paused") { Description = "Add it paused" };
        var sequential = new Option<bool>("--sequential") { Description = "Download the pieces in order (to play while downloading)" };
        var firstLast = new Option<bool>("--first-last") { Description = "Download the first and last piece of each file first (to preview while downloading)" };
        var category = new Option<string?>("--category") { Description = "Its category", HelpName = "NAME" };
        var tags = new Option<string[]>("--tag") { Description = "A tag (repeatable)", HelpName = "TAG", Arity = ArgumentArity.ZeroOrMore, DefaultValueFactory = _ => [] };
        var remote = new RemoteOptions();
        var command = new Command("add", "Add torrents to the running daemon") { sources, output, paused, sequential, firstLast, category, tags };
        remote.AddTo(command);
        command.SetAction(async (result, cancellationToken) =>
        {
            string[] items = result.GetValue(sources)!;
            // Read every local file first: a typo fails before anything is added.
            var read = new List<RemoteAdd.Source>();
            foreach (string item in items)
            {
                bool isUri = item.StartsWith("magnet:", StringComparison.OrdinalIgnoreCase) || item.StartsWith("http://", StringComparison.OrdinalIgnoreCase)
                    || item.StartsWith("https://", StringComparison.OrdinalIgnoreCase) || (Metainfo.InfoHash.TryParse(item, out _) && !File.Exists(item));
                read.Add(new RemoteAdd.Source(item, isUri ? null : ReadTorrentFile(item)));
            }
            var options = new RemoteAdd.Options(
                result.GetValue(output) is { Length: > 0 } dir ? Path.GetFullPath(Commands.PathArguments.ExpandHome(dir)) : null,
                result.GetValue(paused), result.GetValue(sequential), result.GetValue(category), result.GetValue(tags) ?? [], result.GetValue(firstLast));
            using DaemonClient client = await remote.ConnectAsync(result, cancellationToken).ConfigureAwait(false);
            var add = new RemoteAdd(context, client, options);
            await add.AddAsync(read, cancellationToken).ConfigureAwait(false);
            return add.Failures == 0 ? ExitCodes.Success : add.LastExitCode;
        });
        return command;
    }

    private static byte[] ReadTorrentFile(string path)
    {
        string full = Commands.PathArguments.ExpandHome(path);
        if (Directory.Exists(full)) throw new CliException($"'{path}' is a folder, not a .torrent file");
        if (!File.Exists(full)) throw new CliException($"no such file: {path}");
        var info = new FileInfo(full);
        if (info.Length > Metainfo.Torrent.MaxTorrentBytes) throw new CliException($"{path} is too large for a .torrent file");
        try
        {
            return File.ReadAllBytes(full);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot read {path}: {ex.Message}", ExitCodes.Usage, ex);
        }
    }

    private static Command Action(CliContext context, string name, string description, string path)
    {
        var ids = Ids();
        var remote = new RemoteOptions();
        var command = new Command(name, description) { ids };
        remote.AddTo(command);
        command.SetAction(async (result, cancellationToken) =>
        {
            using DaemonClient client = await remote.ConnectAsync(result, cancellationToken).ConfigureAwait(false);
            IReadOnlyList<TorrentView> changed = await client.PostAsync(path, new IdsRequest(result.GetValue(ids)!), ApiJson.Default.IdsRequest,
                ServiceJson.Default.IReadOnlyListTorrentView, cancellationToken).ConfigureAwait(false);
            foreach (TorrentView t in changed) await context.Out.WriteLineAsync($"{t.Id}: {t.Name}: {ServiceJson.Name(t.State)} ({t.StateReason})").ConfigureAwait(false);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Remove(CliContext context)
    {
        var ids = Ids();
        var deleteData = new Option<bool>("--delete-data") { Description = "Delete the torrents' downloaded files too" };
        var remote = new RemoteOptions();
        var command = new Command("remove", "Remove torrents from the daemon (their data stays unless --delete-data)") { ids, deleteData };
        remote.AddTo(command);
        command.SetAction(async (result, cancellationToken) =>
        {
            using DaemonClient client = await remote.ConnectAsync(result, cancellationToken).ConfigureAwait(false);
            RemoveResult removed = await client.PostAsync("api/v1/torrents/remove", new RemoveRequest(result.GetValue(ids)!, result.GetValue(deleteData)),
                ApiJson.Default.RemoveRequest, ApiJson.Default.RemoveResult, cancellationToken).ConfigureAwait(false);
            await context.Out.WriteLineAsync($"removed {removed.Removed} torrent{(removed.Removed == 1 ? "" : "s")}{(result.GetValue(deleteData) ? " and their data" : "")}").ConfigureAwait(false);
            foreach (string problem in removed.Problems) context.WriteError("not deleted: " + problem);
            return removed.Problems.Count == 0 ? ExitCodes.Success : ExitCodes.Failure;
        });
        return command;
    }

    private static Command Priority(CliContext context)
    {
        var id = new Argument<string>("ID") { Description = "The torrent" };
        var rest = new Argument<string[]>("FILE... PRIORITY")
        {
            Description = "File numbers (as 'shoal show' lists them), ranges like 2-5, or 'all'; then skip, low, normal or high",
            Arity = new ArgumentArity(2, 100_000),
        };
        var remote = new RemoteOptions();
        var command = new Command("prio", "Set the priority of files of a torrent: skip (never downloaded), low, normal or high") { id, rest };
        remote.AddTo(command);
        command.SetAction(async (result, cancellationToken) =>
        {
            string[] words = result.GetValue(rest)!;
            FilePriority priority = words[^1].ToLowerInvariant() switch
            {
                "skip" or "off" => FilePriority.Skip,
                "low" => FilePriority.Low,
                "normal" => FilePriority.Normal,
                "high" => FilePriority.High,
                _ => throw new CliException($"'{words[^1]}' is not a priority: skip, low, normal or high"),
            };
            using DaemonClient client = await remote.ConnectAsync(result, cancellationToken).ConfigureAwait(false);
            string torrent = Uri.EscapeDataString(result.GetValue(id)!);
            IReadOnlyList<int> files = await ParseFilesAsync(words[..^1], client, torrent, cancellationToken).ConfigureAwait(false);
            IReadOnlyList<FileView> now = await client.PostAsync($"api/v1/torrents/{torrent}/files/priority", new PriorityRequest(files, priority),
                ApiJson.Default.PriorityRequest, ServiceJson.Default.IReadOnlyListFileView, cancellationToken).ConfigureAwait(false);
            foreach (int index in files)
            {
                FileView f = now[index];
                await context.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{f.Index,4}  {ServiceJson.Name(f.Priority),-6}  {f.Path}")).ConfigureAwait(false);
            }
            return ExitCodes.Success;
        });
        return command;
    }

    private static async Task<IReadOnlyList<int>> ParseFilesAsync(string[] words, DaemonClient client, string torrent, CancellationToken cancellationToken)
    {
        var files = new SortedSet<int>();
        foreach (string word in words)
        {
            if (word.Equals("all", StringComparison.OrdinalIgnoreCase))
            {
                IReadOnlyList<FileView> all = await client.GetAsync($"api/v1/torrents/{torrent}/files", ServiceJson.Default.IReadOnlyListFileView, cancellationToken).ConfigureAwait(false);
                foreach (FileView f in all) files.Add(f.Index);
                continue;
            }
            string[] range = word.Split('-');
            if (range.Length is 1 or 2 && range.All(r => int.TryParse(r, NumberStyles.None, CultureInfo.InvariantCulture, out _)))
            {
                int from = int.Parse(range[0], CultureInfo.InvariantCulture);
                int to = int.Parse(range[^1], CultureInfo.InvariantCulture);
                if (to < from || to - from > 1_000_000) throw new CliException($"'{word}' is not a range of file numbers");
                for (int i = from; i <= to; i++) files.Add(i);
                continue;
            }
            throw new CliException($"'{word}' is not a file number, a range like 2-5, or 'all'");
        }
        return [.. files];
    }

    private static Command Limit(CliContext context)
    {
        var ids = new Argument<string[]>("ID") { Description = "Torrents to limit (none: the whole daemon)", Arity = ArgumentArity.ZeroOrMore };
        var down = Commands.OptionFactory.Size("--down", "Download cap in bytes per second, or 'unlimited'", unlimitedWord: "unlimited");
        var up = Commands.OptionFactory.Size("--up", "Upload cap in bytes per second, or 'unlimited'", unlimitedWord: "unlimited");
        var remote = new RemoteOptions();
        var command = new Command("limit", "Show or set rate limits: of the whole daemon, or of torrents") { ids, down, up };
        remote.AddTo(command);
        command.SetAction(async (result, cancellationToken) =>
        {
            string[] named = result.GetValue(ids) ?? [];
            long? downRate = result.GetResult(down) is null ? null : Math.Max(0, result.GetValue(down));
            long? upRate = result.GetResult(up) is null ? null : Math.Max(0, result.GetValue(up));
            using DaemonClient client = await remote.ConnectAsync(result, cancellationToken).ConfigureAwait(false);
            if (named.Length == 0)
            {
                DaemonSettings settings = downRate is null && upRate is null
                    ? await client.GetAsync("api/v1/settings", ServiceJson.Default.DaemonSettings, cancellationToken).ConfigureAwait(false)
                    : await client.PostAsync("api/v1/settings", SettingsPatch(downRate, upRate), ServiceJson.Default.JsonElement, ServiceJson.Default.DaemonSettings, cancellationToken).ConfigureAwait(false);
                await context.Out.WriteLineAsync($"daemon: down {Rate(settings.DownloadLimit)}, up {Rate(settings.UploadLimit)}").ConfigureAwait(false);
                return ExitCodes.Success;
            }
            foreach (string reference in named)
            {
                string torrent = Uri.EscapeDataString(reference);
                TorrentDetails details = downRate is null && upRate is null
                    ? await client.GetAsync($"api/v1/torrents/{torrent}", ServiceJson.Default.TorrentDetails, cancellationToken).ConfigureAwait(false)
                    : await client.PostAsync($"api/v1/torrents/{torrent}/options", new TorrentOptionsPatch { DownloadLimit = downRate, UploadLimit = upRate },
                        ApiJson.Default.TorrentOptionsPatch, ServiceJson.Default.TorrentDetails, cancellationToken).ConfigureAwait(false);
                await context.Out.WriteLineAsync($"{details.Torrent.Id}: {details.Torrent.Name}: down {Rate(details.Torrent.DownloadLimit)}, up {Rate(details.Torrent.UploadLimit)}").ConfigureAwait(false);
            }
            return ExitCodes.Success;
        });
        return command;
    }

    private static System.Text.Json.JsonElement SettingsPatch(long? down, long? up)
    {
        var patch = new System.Text.Json.Nodes.JsonObject();
        if (down is { } d) patch["download_limit"] = d;
        if (up is { } u) patch["upload_limit"] = u;
        using var document = System.Text.Json.JsonDocument.Parse(patch.ToJsonString());
        return document.RootElement.Clone();
    }

    private static string Rate(long rate) => rate <= 0 ? "unlimited" : HumanFormat.Rate(rate);
}
