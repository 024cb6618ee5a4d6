using System.Text.Json;
using Shoal.Daemon.Service;
using Shoal.Daemon.Transmission;

namespace Shoal.Daemon.QBittorrent;

/// <summary>The torrents/ reads: info (filter, category, tag, hashes, sort, limit, offset), properties, files, trackers, pieces, categories, tags.</summary>
internal sealed class QbTorrentReads(TorrentService service)
{
    public Task<QbResult> Info(QbCall call)
    {
        QbParams p = call.Params;
        IReadOnlyList<TorrentView> all = service.List();
        Dictionary<long, int> priorities = QbRowSource.Priorities(all, service.Settings);
        HashSet<string>? hashes = p["hashes"] is { Length: > 0 } h
            ? [.. h.Split('|', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(x => x.ToLowerInvariant())]
            : null;
        string filter = p["filter"] ?? "all";
        string? category = p["category"];
        string? tag = p["tag"];
        bool? isPrivate = p.Bool("private");
        var rows = new List<QbRowSource>(all.Count);
        foreach (TorrentView v in all)
        {
            if (hashes is not null && !hashes.Contains(v.InfoHash)) continue;
            if (category is not null && (v.Category ?? "") != category) continue;
            if (tag is not null && (tag.Length == 0 ? v.Tags.Count != 0 : !v.Tags.Contains(tag))) continue;
            if (!Matches(filter, v)) continue;
            if (QbRowSource.Load(service, v, priorities[v.Id]) is not { } row) continue;
            if (isPrivate is { } wanted && row.IsPrivate != wanted) continue;
            rows.Add(row);
        }
        if (p["sort"] is { Length: > 0 } sort)
        {
            if (!QbTorrentRow.HasField(sort)) throw QbException.BadParams("'sort' parameter is invalid");
            bool reverse = p.Bool("reverse") ?? false;
            rows.Sort((a, b) => (reverse ? -1 : 1) * QbValue.Compare(QbTorrentRow.Value(a, sort), QbTorrentRow.Value(b, sort)));
        }
        int offset = (int)(p.Long("offset") ?? 0);
        int limit = (int)(p.Long("limit") ?? 0);
        if (offset < 0) offset += rows.Count;
        if (offset < 0 || offset >= rows.Count) offset = 0;
        IEnumerable<QbRowSource> page = rows.Skip(offset);
        if (limit > 0) page = page.Take(limit);
        QbRowSource[] chosen = [.. page];
        bool includeTrackers = p.Bool("includeTrackers") ?? false;
        return Task.FromResult(QbResult.OfJson(w =>
        {
            w.WriteStartArray();
            foreach (QbRowSource row in chosen)
            {
                if (!includeTrackers)
                {
                    QbTorrentRow.Write(w, row);
                    continue;
                }
                w.WriteStartObject();
                foreach ((string name, Func<QbRowSource, QbValue> value) in QbTorrentRow.Fields)
                {
                    w.WritePropertyName(name);
                    value(row).WriteTo(w);
                }
                w.WritePropertyName("trackers");
                WriteTrackers(w, row.View, service.GetTrackers(row.View.InfoHash), sticky: false);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }));
    }

    /// <summary>qBittorrent's list filters; an unknown one is "all", as in qBittorrent.</summary>
    public static bool Matches(string filter, TorrentView v)
    {
        string state = QbTorrentRow.State(v);
        bool downloading = state is "downloading" or "metaDL" or "forcedMetaDL" or "stalledDL" or "checkingDL" or "stoppedDL" or "queuedDL" or "forcedDL";
        bool uploading = state is "uploading" or "stalledUP" or "checkingUP" or "queuedUP" or "forcedUP";
        bool active = v.DownRate > 0 || v.UpRate > 0 || state is "downloading" or "forcedDL" or "metaDL" or "forcedMetaDL";
        return filter switch
        {
            "downloading" => downloading,
            "seeding" => uploading,
            "completed" => uploading || state == "stoppedUP",
            "stopped" or "paused" => v.State == TorrentActivity.Paused,
            "running" or "resumed" => v.State != TorrentActivity.Paused,
            "active" => active,
            "inactive" => !active,
            "stalled" => state is "stalledUP" or "stalledDL",
            "stalled_uploading" => state == "stalledUP",
            "stalled_downloading" => state == "stalledDL",
            "checking" => state is "checkingUP" or "checkingDL",
            "moving" => state == "moving",
            "errored" => state is "error" or "missingFiles",
            _ => true,
        };
    }

    public Task<QbResult> Count(QbCall call) => Task.FromResult(QbResult.OfText(service.List().Count.ToString(System.Globalization.CultureInfo.InvariantCulture)));

    public Task<QbResult> Properties(QbCall call)
    {
        TorrentDetails d = Details(call);
        TorrentView v = d.Torrent;
        long downloadingSeconds = Math.Max(0, v.ActiveSeconds - v.SeedingSeconds);
        return Task.FromResult(QbResult.OfJson(w =>
        {
            w.WriteStartObject();
            w.WriteString("infohash_v1", v.InfoHash);
            w.WriteString("infohash_v2", "");
            w.WriteString("name", v.Name);
            w.WriteString("hash", v.InfoHash);
            w.WriteNumber("time_elapsed", v.ActiveSeconds);
            w.WriteNumber("seeding_time", v.SeedingSeconds);
            w.WriteNumber("eta", v.State == TorrentActivity.Downloading && v.EtaSeconds is { } eta ? Math.Min(eta, QbTorrentRow.MaxEta) : QbTorrentRow.MaxEta);
            w.WriteNumber("nb_connections", v.Peers);
            w.WriteNumber("nb_connections_limit", d.Settings.MaxConnections > 0 ? d.Settings.MaxConnections : service.Settings.MaxConnectionsPerTorrent);
            w.WriteNumber("total_downloaded", v.Downloaded);
            w.WriteNumber("total_downloaded_session", v.Downloaded);
            w.WriteNumber("total_uploaded", v.Uploaded);
            w.WriteNumber("total_uploaded_session", v.Uploaded);
            w.WriteNumber("dl_speed", v.DownRate);
            w.WriteNumber("dl_speed_avg", downloadingSeconds > 0 ? v.Downloaded / downloadingSeconds : -1);
            w.WriteNumber("up_speed", v.UpRate);
            w.WriteNumber("up_speed_avg", v.ActiveSeconds > 0 ? v.Uploaded / v.ActiveSeconds : -1);
            w.WriteNumber("dl_limit", v.DownloadLimit > 0 ? v.DownloadLimit : -1);
            w.WriteNumber("up_limit", v.UploadLimit > 0 ? v.UploadLimit : -1);
            w.WriteNumber("total_wasted", (long)d.FailedPieces * v.PieceSize);
            w.WriteNumber("seeds", v.Seeds);
            w.WriteNumber("seeds_total", v.Seeds);
            w.WriteNumber("peers", Math.Max(0, v.Peers - v.Seeds));
            w.WriteNumber("peers_total", Math.Max(0, v.Peers - v.Seeds));
            w.WriteNumber("share_ratio", v.Ratio);
            w.WriteNumber("popularity", 0);
            w.WriteNumber("reannounce", 0);
            w.WriteNumber("total_size", v.TotalSize);
            w.WriteNumber("pieces_num", v.PieceCount);
            w.WriteNumber("piece_size", v.PieceSize);
            w.WriteNumber("pieces_have", PieceMap.Verified(v));
            w.WriteString("created_by", d.CreatedBy ?? "");
            w.WriteBoolean("is_private", d.IsPrivate);
            if (v.HasMetadata) w.WriteBoolean("private", d.IsPrivate);
            else w.WriteNull("private");
            w.WriteNumber("addition_date", v.AddedAt.ToUnixTimeSeconds());
            w.WriteNumber("last_seen", QbTorrentRow.Unix(v.CompletedAt));
            w.WriteNumber("completion_date", QbTorrentRow.Unix(v.CompletedAt));
            w.WriteNumber("creation_date", QbTorrentRow.Unix(d.CreatedAt));
            w.WriteString("save_path", v.SavePath);
            w.WriteString("download_path", "");
            w.WriteString("comment", d.Comment ?? "");
            w.WriteBoolean("has_metadata", v.HasMetadata);
            w.WriteNumber("progress", v.Progress);
            w.WriteEndObject();
        }));
    }

    /// <summary>qBittorrent's file priorities: 0 do not download, 1 normal, 6 high (7 "maximal" is read as high).</summary>
    public static int Priority(FilePriority p) => p switch
    {
        FilePriority.Skip => 0,
        FilePriority.High => 6,
        _ => 1,
    };

    public Task<QbResult> Files(QbCall call)
    {
        TorrentView v = View(call);
        IReadOnlyList<FileView> files = service.GetFiles(v.InfoHash);
        IReadOnlyList<int> indexes = Enumerable.Range(0, files.Count).ToList();
        if (call.Params["indexes"] is { } wanted)
        {
            indexes = [.. wanted.Split('|').Select(text => int.TryParse(text, out int i) && i >= 0
                ? (i < files.Count ? i : throw QbException.Conflict($"Index {text} is out of bounds."))
                : throw QbException.Conflict($"\"{text}\" is not a valid file index."))];
        }
        int pieceSize = Math.Max(1, v.PieceSize);
        var offsets = new long[files.Count];
        for (int i = 1; i < files.Count; i++) offsets[i] = offsets[i - 1] + files[i - 1].Size;
        bool finished = QbTorrentRow.IsComplete(v);
        return Task.FromResult(QbResult.OfJson(w =>
        {
            w.WriteStartArray();
            foreach (int i in indexes)
            {
                FileView f = files[i];
                long first = offsets[i] / pieceSize;
                long last = f.Size == 0 ? first : (offsets[i] + f.Size - 1) / pieceSize;
                w.WriteStartObject();
                w.WriteNumber("index", i);
                w.WriteString("name", f.Path);
                w.WriteNumber("size", f.Size);
                w.WriteNumber("progress", f.Progress);
                w.WriteNumber("priority", Priority(f.Priority));
                w.WriteStartArray("piece_range");
                w.WriteNumberValue(first);
                w.WriteNumberValue(last);
                w.WriteEndArray();
                w.WriteNumber("availability", f.Progress >= 1 || v.Seeds > 0 ? 1.0 : 0.0);
                if (i == 0) w.WriteBoolean("is_seed", finished);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }));
    }

    public Task<QbResult> Trackers(QbCall call)
    {
        TorrentView v = View(call);
        IReadOnlyList<TrackerView> trackers = service.GetTrackers(v.InfoHash);
        return Task.FromResult(QbResult.OfJson(w => WriteTrackers(w, v, trackers, sticky: true)));
    }

    private void WriteTrackers(Utf8JsonWriter w, TorrentView v, IReadOnlyList<TrackerView> trackers, bool sticky)
    {
        w.WriteStartArray();
        if (sticky)
        {
            bool isPrivate = v.HasMetadata && service.GetDetails(v.InfoHash).IsPrivate;
            DaemonSettings s = service.Settings;
            foreach ((string url, bool on) in new[] { ("** [DHT] **", s.Dht), ("** [PeX] **", s.Pex), ("** [LSD] **", s.Lsd) })
            {
                w.WriteStartObject();
                w.WriteString("url", url);
                w.WriteNumber("tier", -1);
                w.WriteString("msg", isPrivate ? "This torrent is private" : "");
                w.WriteNumber("status", on && !isPrivate ? 2 : 0);
                w.WriteNumber("num_peers", 0);
                w.WriteNumber("num_downloaded", 0);
                w.WriteNumber("num_seeds", 0);
                w.WriteNumber("num_leeches", 0);
                w.WriteEndObject();
            }
        }
        foreach (TrackerView t in trackers)
        {
            w.WriteStartObject();
            w.WriteString("url", t.Url);
            w.WriteNumber("tier", t.Tier);
            // 1 not contacted yet, 2 working, 4 not working.
            w.WriteNumber("status", t.Status switch { "working" => 2, "error" => 4, _ => 1 });
            w.WriteString("msg", t.LastError ?? t.Message ?? "");
            w.WriteNumber("num_peers", t.Peers);
            w.WriteNumber("num_seeds", t.Seeds ?? -1);
            w.WriteNumber("num_leeches", t.Leechers ?? -1);
            w.WriteNumber("num_downloaded", -1);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    public Task<QbResult> WebSeeds(QbCall call)
    {
        _ = View(call);
        return Task.FromResult(QbResult.OfJson(w =>
        {
            w.WriteStartArray();
            w.WriteEndArray();
        }));
    }

    /// <summary>Per piece: 0 not there, 1 downloading, 2 there (see <see cref="PieceMap"/> for what is exact).</summary>
    public Task<QbResult> PieceStates(QbCall call)
    {
        TorrentView v = View(call);
        int have = PieceMap.Verified(v);
        return Task.FromResult(QbResult.OfJson(w =>
        {
            w.WriteStartArray();
            for (int i = 0; i < v.PieceCount; i++) w.WriteNumberValue(i < have ? 2 : 0);
            w.WriteEndArray();
        }));
    }

    public Task<QbResult> Categories(QbCall call)
    {
        IReadOnlyList<CategoryView> categories = service.GetCategories();
        return Task.FromResult(QbResult.OfJson(w =>
        {
            w.WriteStartObject();
            foreach (CategoryView c in categories) WriteCategory(w, c);
            w.WriteEndObject();
        }));
    }

    public static void WriteCategory(Utf8JsonWriter w, CategoryView c)
    {
        w.WriteStartObject(c.Name);
        w.WriteString("name", c.Name);
        w.WriteString("savePath", c.SavePath);
        w.WriteNull("downloadPath");
        w.WriteEndObject();
    }

    public Task<QbResult> Tags(QbCall call)
    {
        IReadOnlyList<string> tags = service.GetTags();
        return Task.FromResult(QbResult.OfJson(w =>
        {
            w.WriteStartArray();
            foreach (string tag in tags) w.WriteStringValue(tag);
            w.WriteEndArray();
        }));
    }

    public Task<QbResult> Limits(QbCall call, bool download)
    {
        IReadOnlyList<string> hashes = call.Params.List("hashes");
        Dictionary<string, TorrentView> byHash = service.List().ToDictionary(v => v.InfoHash, StringComparer.Ordinal);
        return Task.FromResult(QbResult.OfJson(w =>
        {
            w.WriteStartObject();
            foreach (string hash in hashes)
            {
                w.WriteNumber(hash, byHash.TryGetValue(hash.ToLowerInvariant(), out TorrentView? v) ? (download ? v.DownloadLimit : v.UploadLimit) : -1);
            }
            w.WriteEndObject();
        }));
    }

    private TorrentView View(QbCall call) => QbTorrents.Find(service, call.Params.Required("hash")) ?? throw QbException.NotFound();

    private TorrentDetails Details(QbCall call)
    {
        TorrentView v = View(call);
        try
        {
            return service.GetDetails(v.InfoHash);
        }
        catch (ServiceException ex) when (ex.Kind == ServiceErrorKind.NotFound)
        {
            throw QbException.NotFound();
        }
    }
}
