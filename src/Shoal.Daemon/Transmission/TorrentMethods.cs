using System.Text.Json;
using Shoal.Daemon.Service;
using Shoal.Metainfo;

namespace Shoal.Daemon.Transmission;

/// <summary>The torrent methods of Transmission's RPC (rpc-spec.md 3): get, add, set, remove, the actions, location and rename.</summary>
internal sealed class TorrentMethods(TorrentService service, RecentActivity recent, TimeProvider time)
{
    public ArgumentsWriter Get(RpcArgs args, RpcStyle style)
    {
        IReadOnlyList<string> requested = args.StringList("fields") is { Count: > 0 } fields ? fields : throw RpcException.Params("no fields specified");
        bool table = (args.String("format") ?? "objects") switch
        {
            "objects" => false,
            "table" => true,
            _ => throw RpcException.Params("'format' must be \"objects\" or \"table\""),
        };
        // Fields are answered under the names asked for (old clients ask camelCase, new ones snake_case); unknown ones are left out.
        var chosen = new List<(string Name, TorrentFields.Field Field)>(requested.Count);
        var names = new HashSet<string>(StringComparer.Ordinal);
        FactNeeds needs = FactNeeds.None;
        foreach (string name in requested)
        {
            if (!names.Add(name) || !TorrentFields.All.TryGetValue(RpcNames.ToSnake(name), out TorrentFields.Field? field)) continue;
            chosen.Add((name, field));
            needs |= field.Needs;
        }
        IReadOnlyList<TorrentView> views = TorrentIds.Select(service, args, recent, out bool recentlyActive);
        IReadOnlyList<long>? removed = recentlyActive ? recent.RemovedIds() : null;
        DateTimeOffset now = time.GetUtcNow();
        return w =>
        {
            w.WritePropertyName("torrents");
            w.WriteStartArray();
            if (table)
            {
                w.WriteStartArray();
                foreach ((string name, _) in chosen) w.WriteStringValue(name);
                w.WriteEndArray();
            }
            foreach (TorrentView view in views)
            {
                var facts = new TorrentFacts(service, view, style, now);
                if (!facts.TryLoad(needs)) continue;
                if (table) w.WriteStartArray();
                else w.WriteStartObject();
                foreach ((string name, TorrentFields.Field field) in chosen)
                {
                    if (!table) w.WritePropertyName(name);
                    field.Write(w, facts);
                }
                if (table) w.WriteEndArray();
                else w.WriteEndObject();
            }
            w.WriteEndArray();
            if (removed is not null)
            {
                w.WritePropertyName("removed");
                w.WriteStartArray();
                foreach (long id in removed) w.WriteNumberValue(id);
                w.WriteEndArray();
            }
        };
    }

    public async Task<ArgumentsWriter> AddAsync(RpcArgs args, RpcStyle style, CancellationToken cancellationToken)
    {
        string? filename = args.String("filename");
        string? metainfo = args.String("metainfo");
        if (string.IsNullOrWhiteSpace(filename) && string.IsNullOrEmpty(metainfo)) throw RpcException.Params("no filename or metainfo specified");
        byte[]? bytes = null;
        string? uri = null;
        if (!string.IsNullOrEmpty(metainfo))
        {
            try
            {
                bytes = Convert.FromBase64String(metainfo);
            }
            catch (FormatException)
            {
                throw new RpcException(RpcErrorCode.CorruptTorrent, "invalid or corrupt torrent file: metainfo is not base64");
            }
        }
        else if (IsUri(filename!.Trim()))
        {
            uri = filename.Trim();
        }
        else
        {
            bytes = await ReadLocalTorrentAsync(filename, cancellationToken).ConfigureAwait(false);
        }
        int? fileCount = null;
        if (bytes is not null)
        {
            try
            {
                fileCount = Torrent.Parse(bytes).Files.Count;
            }
            catch (MetainfoException ex)
            {
                throw new RpcException(RpcErrorCode.CorruptTorrent, "invalid or corrupt torrent file: " + ex.Message);
            }
        }
        var request = new AddTorrentRequest
        {
            Metainfo = bytes,
            Uri = uri,
            SavePath = args.String("download_dir") is { Length: > 0 } dir ? dir : null,
            Paused = args.Bool("paused") ?? false,
            Sequential = args.Bool("sequential_download") ?? false,
            Tags = args.StringList("labels") ?? [],
            FilePriorities = FilePriorities.ForAdd(args, fileCount),
        };
        TorrentView added;
        bool duplicate = false;
        try
        {
            added = await service.AddAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (ServiceException ex) when (ex.Kind == ServiceErrorKind.Conflict && ex.Torrent is not null)
        {
            added = ex.Torrent;
            duplicate = true;
        }
        catch (ServiceException ex) when (ex.Kind == ServiceErrorKind.BadRequest && ex.Message.Contains("not a valid .torrent", StringComparison.Ordinal))
        {
            throw new RpcException(RpcErrorCode.CorruptTorrent, "invalid or corrupt torrent file: " + ex.Message);
        }
        if (!duplicate && args.Int("peer_limit") is int peers)
        {
            await service.SetOptionsAsync(added.InfoHash, new TorrentOptionsPatch { MaxConnections = Math.Max(0, peers) }).ConfigureAwait(false);
        }
        return w =>
        {
            w.Key(style, duplicate ? "torrent_duplicate" : "torrent_added", duplicate ? "torrent-duplicate" : "torrent-added");
            w.WriteStartObject();
            w.Key(style, "hash_string", "hashString");
            w.WriteStringValue(added.InfoHash);
            w.WriteNumber("id", added.Id);
            w.WriteString("name", added.Name);
            w.WriteEndObject();
        };
    }

    public async Task SetAsync(RpcArgs args)
    {
        IReadOnlyList<TorrentView> views = TorrentIds.Select(service, args, recent, out _);
        foreach (TorrentView view in views)
        {
            string reference = view.InfoHash;
            TorrentOptionsPatch patch = TorrentSettingsPatch.From(service, reference, view, args);
            if (patch != TorrentSettingsPatch.Unchanged) await service.SetOptionsAsync(reference, patch).ConfigureAwait(false);
            await FilePriorities.ApplyAsync(service, reference, args).ConfigureAwait(false);
            if (args.StringList("labels") is { } labels) await SetTagsAsync(reference, view.Tags, labels).ConfigureAwait(false);
        }
        if (args.Int("queue_position") is int position && views.Count > 0)
        {
            await service.MoveToQueuePositionAsync(TorrentIds.References(views), position).ConfigureAwait(false);
        }
        if (args.String("location") is { Length: > 0 } location && views.Count > 0)
        {
            await service.SetLocationAsync(TorrentIds.References(views), location, move: false).ConfigureAwait(false);
        }
    }

    private async Task SetTagsAsync(string reference, IReadOnlyList<string> current, IReadOnlyList<string> wanted)
    {
        string[] drop = [.. current.Except(wanted, StringComparer.Ordinal)];
        string[] add = [.. wanted.Where(l => !string.IsNullOrWhiteSpace(l)).Except(current, StringComparer.Ordinal)];
        if (drop.Length > 0) await service.RemoveTagsAsync([reference], drop).ConfigureAwait(false);
        if (add.Length > 0) await service.AddTagsAsync([reference], add).ConfigureAwait(false);
    }

    public async Task RemoveAsync(RpcArgs args)
    {
        IReadOnlyList<TorrentView> views = TorrentIds.Select(service, args, recent, out _);
        if (views.Count == 0) return;
        // Problems deleting files are logged by the service; Transmission answers success once the torrents are gone.
        await service.RemoveAsync(TorrentIds.References(views), args.Bool("delete_local_data") ?? false).ConfigureAwait(false);
    }

    /// <summary>torrent-start, -start-now, -stop, -verify, -reannounce: the action on every torrent named.</summary>
    public async Task ActAsync(RpcArgs args, Func<IReadOnlyList<string>, Task> action)
    {
        IReadOnlyList<TorrentView> views = TorrentIds.Select(service, args, recent, out _);
        if (views.Count > 0) await action(TorrentIds.References(views)).ConfigureAwait(false);
    }

    public async Task SetLocationAsync(RpcArgs args)
    {
        string location = args.String("location") is { Length: > 0 } l ? l : throw RpcException.Params("'location' is required");
        IReadOnlyList<TorrentView> views = TorrentIds.Select(service, args, recent, out _);
        if (views.Count > 0) await service.SetLocationAsync(TorrentIds.References(views), location, args.Bool("move") ?? false).ConfigureAwait(false);
    }

    /// <summary>
    /// torrent-rename-path: the file or folder at 'path' (as the torrent's file list shows it, its folder included) gets
    /// the last name 'name', on disk and in the torrent. Answers the path, the new name and the torrent's id.
    /// </summary>
    public async Task<ArgumentsWriter> RenamePathAsync(RpcArgs args)
    {
        IReadOnlyList<TorrentView> views = TorrentIds.Select(service, args, recent, out _);
        if (views.Count != 1) throw RpcException.Params("torrent-rename-path names exactly one torrent");
        string path = (args.String("path") ?? throw RpcException.Params("'path' is required")).Trim('/');
        string name = args.String("name") ?? throw RpcException.Params("'name' is required");
        if (path.Length == 0) throw RpcException.Params("'path' names no file or folder");
        if (name.Length == 0 || name.Contains('/', StringComparison.Ordinal) || name is "." or "..")
            throw RpcException.Params($"'{name}' is not a file or folder name");
        int slash = path.LastIndexOf('/');
        string newPath = slash < 0 ? name : path[..(slash + 1)] + name;
        TorrentView view = views[0];
        await service.RenamePathAsync(view.InfoHash, path, newPath).ConfigureAwait(false);
        return w =>
        {
            w.WriteString("path", path);
            w.WriteString("name", name);
            w.WriteNumber("id", view.Id);
        };
    }

    private static bool IsUri(string text)
        => text.StartsWith("magnet:", StringComparison.OrdinalIgnoreCase)
            || text.StartsWith("http://", StringComparison.OrdinalIgnoreCase)
            || text.StartsWith("https://", StringComparison.OrdinalIgnoreCase)
            || InfoHash.TryParse(text, out _);

    /// <summary>A .torrent file on the daemon's machine, inside the daemon's folders only.</summary>
    private async Task<byte[]> ReadLocalTorrentAsync(string path, CancellationToken cancellationToken)
    {
        string full;
        try
        {
            full = service.Folders.Confine(path, "the .torrent file");
        }
        catch (ServiceException ex)
        {
            throw new RpcException(RpcErrorCode.SystemError, ex.Message);
        }
        try
        {
            var info = new FileInfo(full);
            if (!info.Exists) throw new RpcException(RpcErrorCode.SystemError, $"invalid or corrupt torrent file: {path} does not exist");
            if (info.Length > Torrent.MaxTorrentBytes) throw new RpcException(RpcErrorCode.CorruptTorrent, $"invalid or corrupt torrent file: {path} is too large");
            return await File.ReadAllBytesAsync(full, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new RpcException(RpcErrorCode.SystemError, $"cannot read {path}: {ex.Message}");
        }
    }
}
