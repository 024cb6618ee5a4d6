using System.Text.Json;
using Shoal.Daemon.Service;
using Shoal.Daemon.State;

namespace Shoal.Daemon.QBittorrent;

/// <summary>What a torrent's row of torrents/info and sync/maindata is made of; two equal sources make equal rows.</summary>
internal sealed record QbRowSource(
    TorrentView View,
    TorrentSettings Settings,
    DaemonSettings Session,
    string Magnet,
    string Comment,
    bool? IsPrivate,
    string Tracker,
    int TrackerCount,
    string ContentPath,
    int Priority)
{
    /// <summary>Loads a torrent's source; null when it was removed meanwhile.</summary>
    public static QbRowSource? Load(TorrentService service, TorrentView view, int priority)
    {
        try
        {
            string hash = view.InfoHash;
            TorrentDetails details = service.GetDetails(hash);
            IReadOnlyList<TrackerView> trackers = service.GetTrackers(hash);
            string working = trackers.FirstOrDefault(t => t.Status == "working")?.Url ?? "";
            return new QbRowSource(details.Torrent, details.Settings, service.Settings, details.Magnet, details.Comment ?? "",
                view.HasMetadata ? details.IsPrivate : null, working, trackers.Count, service.GetContentPath(hash), priority);
        }
        catch (ServiceException ex) when (ex.Kind == ServiceErrorKind.NotFound)
        {
            return null;
        }
    }

    /// <summary>
    /// qBittorrent's queue "priority" of every torrent: from 1 in queue order among the incomplete ones, 0 for the
    /// complete ones and for all when queueing is off.
    /// </summary>
    public static Dictionary<long, int> Priorities(IReadOnlyList<TorrentView> views, DaemonSettings session)
    {
        var priorities = new Dictionary<long, int>(views.Count);
        int next = 1;
        foreach (TorrentView v in views.OrderBy(v => v.QueuePosition))
        {
            priorities[v.Id] = session.QueueingEnabled && !QbTorrentRow.IsComplete(v) ? next++ : 0;
        }
        return priorities;
    }
}

/// <summary>
/// A torrent as qBittorrent's torrents/info shows it (WebAPI 2.11, qBittorrent 5.1): sizes in bytes, rates in
/// bytes per second, times in seconds since 1970 (-1 for never), limits 0 for none, goals -2 "the global one",
/// -1 "none", and qBittorrent's state names.
/// </summary>
internal static class QbTorrentRow
{
    /// <summary>qBittorrent's "infinite" ETA: 100 days.</summary>
    public const long MaxEta = 8_640_000;

    public static readonly (string Name, Func<QbRowSource, QbValue> Value)[] Fields =
    [
        ("added_on", s => s.View.AddedAt.ToUnixTimeSeconds()),
        ("amount_left", s => Math.Max(0, s.View.WantedSize - s.View.DoneBytes)),
        ("auto_tmm", _ => false),
        ("availability", s => Running(s.View) ? (double)s.View.Seeds : -1.0),
        ("category", s => s.View.Category ?? ""),
        ("comment", s => s.Comment),
        ("completed", s => s.View.DoneBytes),
        ("completion_on", s => Unix(s.View.CompletedAt)),
        ("content_path", s => s.ContentPath),
        ("dl_limit", s => s.View.DownloadLimit),
        ("dlspeed", s => s.View.DownRate),
        ("download_path", _ => ""),
        ("downloaded", s => s.View.Downloaded),
        ("downloaded_session", s => s.View.Downloaded),
        ("eta", s => Eta(s)),
        ("f_l_piece_prio", s => s.View.FirstLastPiecePriority),
        ("force_start", s => s.View.ForceStarted),
        ("has_metadata", s => s.View.HasMetadata),
        ("hash", s => s.View.InfoHash),
        ("inactive_seeding_time_limit", s => Own(s.Settings.IdleLimitMinutes)),
        ("infohash_v1", s => s.View.InfoHash),
        ("infohash_v2", _ => ""),
        ("last_activity", s => s.View.LastActivity?.ToUnixTimeSeconds() ?? s.View.AddedAt.ToUnixTimeSeconds()),
        ("magnet_uri", s => s.Magnet),
        ("max_inactive_seeding_time", s => (long)Effective(s.Settings.IdleLimitMinutes, s.Session.IdleLimitMinutes)),
        ("max_ratio", s => Effective(s.Settings.RatioLimit, s.Session.RatioLimit)),
        ("max_seeding_time", s => (long)Effective(s.Settings.SeedingTimeLimitMinutes, s.Session.SeedingTimeLimitMinutes)),
        ("name", s => s.View.Name),
        ("num_complete", s => s.View.Seeds),
        ("num_incomplete", s => Math.Max(0, s.View.Peers - s.View.Seeds)),
        ("num_leechs", s => Math.Max(0, s.View.Peers - s.View.Seeds)),
        ("num_seeds", s => s.View.Seeds),
        ("popularity", _ => 0.0),
        ("priority", s => s.Priority),
        ("private", s => s.IsPrivate is { } p ? p : QbValue.Null),
        ("progress", s => s.View.Progress),
        ("ratio", s => s.View.Ratio),
        ("ratio_limit", s => s.Settings.RatioLimit is not double r ? -2.0 : r < 0 ? -1.0 : r),
        ("reannounce", _ => 0),
        ("root_path", s => s.View.FileCount > 1 ? s.ContentPath : ""),
        ("save_path", s => s.View.SavePath),
        ("seeding_time", s => s.View.SeedingSeconds),
        ("seeding_time_limit", s => Own(s.Settings.SeedingTimeLimitMinutes)),
        ("seen_complete", s => Unix(s.View.CompletedAt)),
        ("seq_dl", s => s.View.Sequential),
        ("size", s => s.View.WantedSize),
        ("state", s => State(s.View)),
        ("super_seeding", _ => false),
        ("tags", s => string.Join(", ", s.View.Tags)),
        ("time_active", s => s.View.ActiveSeconds),
        ("total_size", s => s.View.TotalSize),
        ("tracker", s => s.Tracker),
        ("trackers_count", s => s.TrackerCount),
        ("up_limit", s => s.View.UploadLimit),
        ("uploaded", s => s.View.Uploaded),
        ("uploaded_session", s => s.View.Uploaded),
        ("upspeed", s => s.View.UpRate),
    ];

    private static readonly Dictionary<string, int> FieldIndex = Fields.Select((f, i) => (f.Name, i)).ToDictionary(p => p.Name, p => p.i, StringComparer.Ordinal);

    public static bool HasField(string name) => FieldIndex.ContainsKey(name);

    public static QbValue Value(QbRowSource source, string name) => Fields[FieldIndex[name]].Value(source);

    public static void Write(Utf8JsonWriter w, QbRowSource source)
    {
        w.WriteStartObject();
        foreach ((string name, Func<QbRowSource, QbValue> value) in Fields)
        {
            w.WritePropertyName(name);
            value(source).WriteTo(w);
        }
        w.WriteEndObject();
    }

    /// <summary>
    /// qBittorrent's state names: downloading, stalledDL, forcedDL, metaDL, forcedMetaDL, queuedDL, checkingDL,
    /// stoppedDL and their UP counterparts for complete torrents, error, and first of all (as qBittorrent orders them)
    /// moving while its data moves, missingFiles while its data is gone.
    /// </summary>
    public static string State(TorrentView v) => v.Moving ? "moving" : v.MissingFiles ? "missingFiles" : v.State switch
    {
        TorrentActivity.Error => "error",
        TorrentActivity.Paused => IsComplete(v) ? "stoppedUP" : "stoppedDL",
        TorrentActivity.QueuedDownload => "queuedDL",
        TorrentActivity.QueuedSeed => "queuedUP",
        TorrentActivity.Checking => IsComplete(v) ? "checkingUP" : "checkingDL",
        TorrentActivity.FetchingMetadata => v.ForceStarted ? "forcedMetaDL" : "metaDL",
        TorrentActivity.Downloading => v.ForceStarted ? "forcedDL" : v.DownRate > 0 ? "downloading" : "stalledDL",
        TorrentActivity.Seeding => v.ForceStarted ? "forcedUP" : v.UpRate > 0 ? "uploading" : "stalledUP",
        _ => "unknown",
    };

    /// <summary>Every wanted byte is there (a checking torrent counts as complete when it was before).</summary>
    public static bool IsComplete(TorrentView v) => v.HasMetadata && (v.CompletedAt is not null || v.WantedSize > 0 && v.DoneBytes >= v.WantedSize);

    private static bool Running(TorrentView v) => v.State is TorrentActivity.Downloading or TorrentActivity.Seeding or TorrentActivity.FetchingMetadata;

    private static long Eta(QbRowSource s) => s.View.State == TorrentActivity.Downloading && s.View.EtaSeconds is { } eta ? Math.Min(eta, MaxEta) : MaxEta;

    public static long Unix(DateTimeOffset? time) => time?.ToUnixTimeSeconds() ?? -1;

    /// <summary>A torrent's own goal as qBittorrent shows it: -2 follows the global one, -1 none.</summary>
    private static long Own(int? minutes) => minutes is not int m ? -2 : m < 0 ? -1 : m;

    /// <summary>The goal in force: the torrent's own, else the global one; -1 for none.</summary>
    private static double Effective(double? own, double session) => own is double o ? (o < 0 ? -1 : o) : session < 0 ? -1 : session;
}
