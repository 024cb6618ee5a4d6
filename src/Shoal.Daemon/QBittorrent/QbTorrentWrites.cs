using Microsoft.AspNetCore.Http;
using Shoal.Daemon.Service;
using Shoal.Metainfo;

namespace Shoal.Daemon.QBittorrent;

/// <summary>The torrents/ changes: add, delete, stop/start, recheck, reannounce, categories, tags, limits, queue, files, location, name.</summary>
internal sealed class QbTorrentWrites(TorrentService service)
{
    /// <summary>
    /// torrents/add: any number of .torrent files and URLs (magnet links, http(s) URLs, bare info-hashes), one per
    /// line, with the form's options. "Ok." when at least one was added, "Fails." when none was (a duplicate is not
    /// added), 415 for a file that is not a torrent.
    /// </summary>
    public async Task<QbResult> AddAsync(QbCall call)
    {
        QbParams p = call.Params;
        bool? stopped = p.Bool("stopped") ?? p.Bool("paused");
        double? ratio = p.Double("ratioLimit");
        long? seedingTime = p.Long("seedingTimeLimit");
        long? inactiveTime = p.Long("inactiveSeedingTimeLimit");
        var options = new AddTorrentRequest
        {
            SavePath = p["savepath"] is { Length: > 0 } path ? path.Trim() : null,
            Category = p["category"] is { Length: > 0 } category ? category : null,
            Tags = (p["tags"] ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries),
            Paused = stopped ?? false,
            ForceStart = p.Bool("forced") ?? false,
            Sequential = p.Bool("sequentialDownload") ?? false,
            FirstLastPiecePriority = p.Bool("firstLastPiecePrio") ?? false,
            DownloadLimit = Math.Max(0, p.Long("dlLimit") ?? 0),
            UploadLimit = Math.Max(0, p.Long("upLimit") ?? 0),
            RatioLimit = ratio is not double r || r == -2 ? null : r < 0 ? -1 : r,
            SeedingTimeLimitMinutes = Goal(seedingTime),
            IdleLimitMinutes = Goal(inactiveTime),
        };
        var requests = new List<AddTorrentRequest>();
        foreach ((string name, byte[] data) in p.Files)
        {
            try
            {
                _ = Torrent.Parse(data);
            }
            catch (MetainfoException)
            {
                throw new QbException(StatusCodes.Status415UnsupportedMediaType, $"Error: '{name}' is not a valid torrent file.");
            }
            requests.Add(options with { Metainfo = data });
        }
        foreach (string url in (p["urls"] ?? "").Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            requests.Add(options with { Uri = url });
        }
        if (requests.Count == 0) throw QbException.BadParams("nothing to add: send torrents files or urls");
        bool any = false;
        string? rename = p["rename"] is { Length: > 0 } n ? n.Trim() : null;
        // All of them in one transaction: one durable commit, one queue plan.
        foreach (AddOutcome outcome in await service.AddManyAsync(requests, call.Aborted).ConfigureAwait(false))
        {
            // qBittorrent adds in the background and says only whether anything was added.
            if (outcome.Added is not { } added)
            {
                if (outcome.Error!.Kind is ServiceErrorKind.Conflict or ServiceErrorKind.Failed or ServiceErrorKind.BadRequest) continue;
                throw outcome.Error;
            }
            any = true;
            if (rename is not null) await service.RenameAsync(added.InfoHash, rename).ConfigureAwait(false);
            if (p.Bool("addToTopOfQueue") == true) await service.MoveInQueueAsync([added.InfoHash], QueueMove.Top).ConfigureAwait(false);
        }
        return any ? QbResult.Ok : QbResult.Fails;
    }

    private static int? Goal(long? minutes) => minutes switch
    {
        null or -2 => null,
        < 0 => -1,
        _ => (int)Math.Min(minutes.Value, int.MaxValue),
    };

    public async Task<QbResult> DeleteAsync(QbCall call)
    {
        IReadOnlyList<string> torrents = Torrents(call);
        if (torrents.Count > 0) await service.RemoveAsync(torrents, call.Params.Bool("deleteFiles") ?? false).ConfigureAwait(false);
        return QbResult.Empty;
    }

    /// <summary>stop/start (pause/resume), recheck, reannounce on the torrents named by "hashes".</summary>
    public async Task<QbResult> ActAsync(QbCall call, Func<IReadOnlyList<string>, Task> action)
    {
        IReadOnlyList<string> torrents = Torrents(call);
        if (torrents.Count > 0) await action(torrents).ConfigureAwait(false);
        return QbResult.Empty;
    }

    /// <summary>setForceStart: true runs the torrents whatever the queue says; false hands them back to the queue.</summary>
    public async Task<QbResult> SetForceStartAsync(QbCall call)
    {
        IReadOnlyList<string> torrents = Torrents(call);
        bool value = call.Params.Bool("value") ?? false;
        if (torrents.Count > 0) await (value ? service.ForceStartAsync(torrents) : service.ResumeAsync(torrents)).ConfigureAwait(false);
        return QbResult.Empty;
    }

    public async Task<QbResult> SetCategoryAsync(QbCall call)
    {
        IReadOnlyList<string> torrents = Torrents(call);
        string category = call.Params.Required("category");
        if (category.Length > 0 && !service.GetCategories().Any(c => c.Name == category)) throw QbException.Conflict("Incorrect category name");
        if (torrents.Count > 0) await service.SetCategoryAsync(torrents, category.Length == 0 ? null : category).ConfigureAwait(false);
        return QbResult.Empty;
    }

    /// <summary>createCategory (409 when it exists) and editCategory (409 when it does not), with its save path.</summary>
    public async Task<QbResult> PutCategoryAsync(QbCall call, bool create)
    {
        string name = call.Params.Required("category");
        if (name.Length == 0) throw QbException.BadParams("Category cannot be empty");
        bool exists = service.GetCategories().Any(c => c.Name == name);
        if (create && exists) throw QbException.Conflict("Unable to create category");
        if (!create && !exists) throw QbException.Conflict("Unable to edit category");
        string? savePath = create ? call.Params["savePath"] : call.Params.Required("savePath");
        await service.PutCategoryAsync(name, savePath).ConfigureAwait(false);
        return QbResult.Empty;
    }

    public async Task<QbResult> RemoveCategoriesAsync(QbCall call)
    {
        string[] names = call.Params.Required("categories").Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (names.Length > 0) await service.DeleteCategoriesAsync(names).ConfigureAwait(false);
        return QbResult.Empty;
    }

    public async Task<QbResult> AddTagsAsync(QbCall call)
    {
        IReadOnlyList<string> torrents = Torrents(call);
        string[] tags = Tags(call.Params.Required("tags"));
        if (torrents.Count > 0 && tags.Length > 0) await service.AddTagsAsync(torrents, tags).ConfigureAwait(false);
        return QbResult.Empty;
    }

    /// <summary>removeTags: the tags named, or every tag of the torrents when none is named.</summary>
    public async Task<QbResult> RemoveTagsAsync(QbCall call)
    {
        IReadOnlyList<string> torrents = Torrents(call);
        string[] tags = Tags(call.Params["tags"] ?? "");
        if (tags.Length == 0) tags = [.. service.GetTags()];
        if (torrents.Count > 0 && tags.Length > 0) await service.RemoveTagsAsync(torrents, tags).ConfigureAwait(false);
        return QbResult.Empty;
    }

    /// <summary>setTags: the torrents carry exactly these tags.</summary>
    public async Task<QbResult> SetTagsAsync(QbCall call)
    {
        IReadOnlyList<string> torrents = Torrents(call);
        string[] tags = Tags(call.Params.Required("tags"));
        foreach (string hash in torrents)
        {
            IReadOnlyList<string> current = service.Get(hash).Tags;
            string[] drop = [.. current.Except(tags, StringComparer.Ordinal)];
            string[] add = [.. tags.Except(current, StringComparer.Ordinal)];
            if (drop.Length > 0) await service.RemoveTagsAsync([hash], drop).ConfigureAwait(false);
            if (add.Length > 0) await service.AddTagsAsync([hash], add).ConfigureAwait(false);
        }
        return QbResult.Empty;
    }

    public async Task<QbResult> CreateTagsAsync(QbCall call)
    {
        string[] tags = Tags(call.Params.Required("tags"));
        if (tags.Length > 0) await service.CreateTagsAsync(tags).ConfigureAwait(false);
        return QbResult.Empty;
    }

    public async Task<QbResult> DeleteTagsAsync(QbCall call)
    {
        string[] tags = Tags(call.Params.Required("tags"));
        if (tags.Length > 0) await service.DeleteTagsAsync(tags).ConfigureAwait(false);
        return QbResult.Empty;
    }

    private static string[] Tags(string text) => text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    /// <summary>
    /// setShareLimits: ratio, seeding time and inactive seeding time (minutes); -2 follows the global goal, -1 is
    /// none. A limit left out follows the global goal (qBittorrent 5.1 requires all three; Sonarr sends two).
    /// </summary>
    public async Task<QbResult> SetShareLimitsAsync(QbCall call)
    {
        IReadOnlyList<string> torrents = Torrents(call);
        double ratio = call.Params.Double("ratioLimit") ?? -2;
        var patch = new TorrentOptionsPatch
        {
            RatioLimit = ratio == -2 ? double.NaN : ratio < 0 ? -1 : ratio,
            SeedingTimeLimitMinutes = Goal(call.Params.Long("seedingTimeLimit") ?? -2) ?? TorrentOptionsPatch.FollowSession,
            IdleLimitMinutes = Goal(call.Params.Long("inactiveSeedingTimeLimit") ?? -2) ?? TorrentOptionsPatch.FollowSession,
        };
        foreach (string hash in torrents) await service.SetOptionsAsync(hash, patch).ConfigureAwait(false);
        return QbResult.Empty;
    }

    /// <summary>topPrio, bottomPrio, increasePrio, decreasePrio: 409 when queueing is off, as in qBittorrent.</summary>
    public async Task<QbResult> QueueAsync(QbCall call, QueueMove move)
    {
        if (!service.Settings.QueueingEnabled) throw QbException.Conflict("Torrent queueing must be enabled");
        IReadOnlyList<string> torrents = Torrents(call);
        if (torrents.Count > 0) await service.MoveInQueueAsync(torrents, move).ConfigureAwait(false);
        return QbResult.Empty;
    }

    /// <summary>filePrio: 0 do not download, 1 normal, 6 high, 7 maximal (high here).</summary>
    public async Task<QbResult> FilePriorityAsync(QbCall call)
    {
        TorrentView view = QbTorrents.Find(service, call.Params.Required("hash")) ?? throw QbException.NotFound();
        string[] ids = call.Params.Required("id").Split('|');
        if (!int.TryParse(call.Params.Required("priority"), out int priority)) throw QbException.BadParams("Priority must be an integer");
        FilePriority wanted = priority switch
        {
            0 => FilePriority.Skip,
            1 => FilePriority.Normal,
            6 or 7 => FilePriority.High,
            _ => throw QbException.BadParams("Priority is not valid"),
        };
        if (!view.HasMetadata) throw QbException.Conflict("Torrent's metadata has not yet downloaded");
        var files = new List<int>(ids.Length);
        foreach (string id in ids)
        {
            if (!int.TryParse(id, out int index)) throw QbException.BadParams("File IDs must be integers");
            if (index < 0 || index >= view.FileCount) throw QbException.Conflict("File ID is not valid");
            files.Add(index);
        }
        await service.SetFilePrioritiesAsync(view.InfoHash, files, wanted).ConfigureAwait(false);
        return QbResult.Empty;
    }

    /// <summary>setLocation (hashes, location) and setSavePath (id, path): the data is moved to the folder.</summary>
    public async Task<QbResult> SetLocationAsync(QbCall call, string torrentsName, string pathName)
    {
        IReadOnlyList<string> torrents = QbTorrents.Select(service, call.Params.List(torrentsName));
        string location = call.Params.Required(pathName).Trim();
        if (location.Length == 0) throw QbException.BadParams("Save path cannot be empty");
        if (torrents.Count > 0) await service.SetLocationAsync(torrents, location, move: true).ConfigureAwait(false);
        return QbResult.Empty;
    }

    public async Task<QbResult> RenameAsync(QbCall call)
    {
        TorrentView view = QbTorrents.Find(service, call.Params.Required("hash")) ?? throw QbException.NotFound();
        string name = call.Params.Required("name").Trim().ReplaceLineEndings(" ");
        if (name.Length == 0) throw QbException.Conflict("Incorrect torrent name");
        await service.RenameAsync(view.InfoHash, name).ConfigureAwait(false);
        return QbResult.Empty;
    }

    /// <summary>
    /// renameFile and renameFolder (hash, oldPath, newPath): paths as the torrent's file list shows them, its folder
    /// included; the file or folder moves on disk and in the torrent. 409 when a path is unusable or taken.
    /// </summary>
    public async Task<QbResult> RenamePathAsync(QbCall call, string what)
    {
        TorrentView view = QbTorrents.Find(service, call.Params.Required("hash")) ?? throw QbException.NotFound();
        string oldPath = call.Params.Required("oldPath").Trim('/');
        string newPath = call.Params.Required("newPath").Trim('/');
        if (oldPath.Length == 0 || newPath.Length == 0) throw QbException.Conflict($"Invalid {what} path");
        try
        {
            await service.RenamePathAsync(view.InfoHash, oldPath, newPath).ConfigureAwait(false);
        }
        catch (ServiceException ex) when (ex.Kind is ServiceErrorKind.BadRequest or ServiceErrorKind.Failed)
        {
            throw QbException.Conflict(ex.Message);
        }
        return QbResult.Empty;
    }

    /// <summary>setDownloadLimit, setUploadLimit: bytes per second; 0 or -1 is no limit.</summary>
    public async Task<QbResult> SetLimitAsync(QbCall call, bool download)
    {
        IReadOnlyList<string> torrents = Torrents(call);
        long limit = Math.Max(0, call.Params.Long("limit") ?? throw QbException.BadParams("Missing parameter: limit"));
        var patch = download ? new TorrentOptionsPatch { DownloadLimit = limit } : new TorrentOptionsPatch { UploadLimit = limit };
        foreach (string hash in torrents) await service.SetOptionsAsync(hash, patch).ConfigureAwait(false);
        return QbResult.Empty;
    }

    public async Task<QbResult> ToggleSequentialAsync(QbCall call)
    {
        foreach (string hash in Torrents(call))
        {
            await service.SetOptionsAsync(hash, new TorrentOptionsPatch { Sequential = !service.Get(hash).Sequential }).ConfigureAwait(false);
        }
        return QbResult.Empty;
    }

    /// <summary>toggleFirstLastPiecePrio: flips each torrent's first-and-last-piece priority (as qBittorrent, each on its own).</summary>
    public async Task<QbResult> ToggleFirstLastPiecePriorityAsync(QbCall call)
    {
        foreach (string hash in Torrents(call))
        {
            await service.SetOptionsAsync(hash, new TorrentOptionsPatch { FirstLastPiecePriority = !service.Get(hash).FirstLastPiecePriority }).ConfigureAwait(false);
        }
        return QbResult.Empty;
    }

    /// <summary>addTrackers: URLs one per line, added to the torrent's extra trackers.</summary>
    public async Task<QbResult> AddTrackersAsync(QbCall call)
    {
        TorrentView view = QbTorrents.Find(service, call.Params.Required("hash")) ?? throw QbException.NotFound();
        string[] urls = call.Params.Required("urls").Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        IReadOnlyList<string> current = service.GetSettings(view.InfoHash).Trackers;
        await service.SetOptionsAsync(view.InfoHash, new TorrentOptionsPatch { Trackers = [.. current.Union(urls, StringComparer.Ordinal)] }).ConfigureAwait(false);
        return QbResult.Empty;
    }

    /// <summary>removeTrackers: URLs separated by '|'; the torrent's own trackers cannot be removed (409).</summary>
    public async Task<QbResult> RemoveTrackersAsync(QbCall call)
    {
        TorrentView view = QbTorrents.Find(service, call.Params.Required("hash")) ?? throw QbException.NotFound();
        string[] urls = call.Params.Required("urls").Split('|', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        IReadOnlyList<string> current = service.GetSettings(view.InfoHash).Trackers;
        string? own = urls.FirstOrDefault(u => !current.Contains(u, StringComparer.Ordinal) && service.GetTrackers(view.InfoHash).Any(t => t.Url == u));
        if (own is not null) throw QbException.Conflict($"{own} is one of the torrent's own trackers: only added ones can be removed");
        await service.SetOptionsAsync(view.InfoHash, new TorrentOptionsPatch { Trackers = [.. current.Except(urls, StringComparer.Ordinal)] }).ConfigureAwait(false);
        return QbResult.Empty;
    }

    private IReadOnlyList<string> Torrents(QbCall call) => QbTorrents.Select(service, call.Params.List("hashes"));
}
