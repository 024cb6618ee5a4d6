using System.Text.Json;
using Microsoft.AspNetCore.StaticFiles;
using Shoal.Daemon.Service;

namespace Shoal.Daemon.Transmission;

/// <summary>
/// The fields torrent-get answers, by snake_case name (rpc-spec.md 3.3), each with what it needs loaded and how it
/// writes its value. Types and units are Transmission's: times in seconds since 1970 (0 for none), rates in bytes
/// per second, limits in kB/s (1000 bytes), status numbers 0-6, ratios -1 when there is nothing to divide.
/// </summary>
internal static class TorrentFields
{
    /// <summary>One field: what it needs loaded and how to write its value.</summary>
    public sealed record Field(FactNeeds Needs, Action<Utf8JsonWriter, TorrentFacts> Write);

    private static readonly FileExtensionContentTypeProvider MimeTypes = new();

    /// <summary>Every field Shoal answers, by snake_case name.</summary>
    public static IReadOnlyDictionary<string, Field> All { get; } = Build();

    /// <summary>Transmission's status number (0 stopped, 2 verifying, 3 queued to download, 4 downloading, 5 queued to seed, 6 seeding).</summary>
    public static int Status(TorrentView v) => v.State switch
    {
        TorrentActivity.Checking => 2,
        TorrentActivity.QueuedDownload => 3,
        TorrentActivity.Downloading or TorrentActivity.FetchingMetadata => 4,
        TorrentActivity.QueuedSeed => 5,
        TorrentActivity.Seeding => 6,
        _ => 0,
    };

    /// <summary>Transmission's file priority: -1 low, 0 normal, 1 high (a skipped file is "not wanted", normal).</summary>
    public static int Priority(FilePriority p) => p switch
    {
        FilePriority.Low => -1,
        FilePriority.High => 1,
        _ => 0,
    };

    private static Dictionary<string, Field> Build()
    {
        var f = new Dictionary<string, Field>(StringComparer.Ordinal);
        void Add(string name, FactNeeds needs, Action<Utf8JsonWriter, TorrentFacts> write) => f[name] = new Field(needs, write);
        const FactNeeds none = FactNeeds.None;

        Add("activity_date", none, (w, t) => w.WriteNumberValue(TorrentFacts.Unix(t.View.LastActivity)));
        Add("added_date", none, (w, t) => w.WriteNumberValue(TorrentFacts.Unix(t.View.AddedAt)));
        Add("availability", none, TorrentFieldLists.Availability);
        Add("bandwidth_priority", none, (w, _) => w.WriteNumberValue(0));
        Add("bytes_completed", FactNeeds.Files, (w, t) =>
        {
            w.WriteStartArray();
            foreach (FileView file in t.Files) w.WriteNumberValue(file.Done);
            w.WriteEndArray();
        });
        Add("comment", FactNeeds.Details, (w, t) => w.WriteStringValue(t.Details.Comment ?? ""));
        Add("corrupt_ever", FactNeeds.Details, (w, t) => w.WriteNumberValue((long)t.Details.FailedPieces * t.View.PieceSize));
        Add("creator", FactNeeds.Details, (w, t) => w.WriteStringValue(t.Details.CreatedBy ?? ""));
        Add("date_created", FactNeeds.Details, (w, t) => w.WriteNumberValue(TorrentFacts.Unix(t.Details.CreatedAt)));
        // Peers that have everything have what is still wanted; others are not counted (their pieces are not known here).
        Add("desired_available", none, (w, t) => w.WriteNumberValue(t.View.Seeds > 0 ? t.LeftUntilDone : 0));
        Add("done_date", none, (w, t) => w.WriteNumberValue(TorrentFacts.Unix(t.View.CompletedAt)));
        Add("download_dir", none, (w, t) => w.WriteStringValue(t.View.SavePath));
        Add("downloaded_ever", none, (w, t) => w.WriteNumberValue(t.View.Downloaded));
        Add("download_limit", none, (w, t) => w.WriteNumberValue(t.View.DownloadLimit / 1000));
        Add("download_limited", none, (w, t) => w.WriteBooleanValue(t.View.DownloadLimit > 0));
        Add("edit_date", none, (w, _) => w.WriteNumberValue(0));
        Add("error", none, (w, t) => w.WriteNumberValue(t.View.Error is null ? 0 : 3));
        Add("error_string", none, (w, t) => w.WriteStringValue(t.View.Error ?? ""));
        Add("eta", none, (w, t) => w.WriteNumberValue(Eta(t.View)));
        Add("eta_idle", none, (w, _) => w.WriteNumberValue(-1));
        Add("file_count", none, (w, t) => w.WriteNumberValue(t.View.FileCount));
        Add("files", FactNeeds.Files, TorrentFieldLists.Files);
        Add("file_stats", FactNeeds.Files, TorrentFieldLists.FileStats);
        Add("group", none, (w, _) => w.WriteStringValue(""));
        Add("hash_string", none, (w, t) => w.WriteStringValue(t.View.InfoHash));
        Add("have_unchecked", none, (w, _) => w.WriteNumberValue(0));
        Add("have_valid", none, (w, t) => w.WriteNumberValue(t.View.DoneBytes));
        Add("honors_session_limits", none, (w, _) => w.WriteBooleanValue(true));
        Add("id", none, (w, t) => w.WriteNumberValue(t.View.Id));
        Add("is_finished", none, (w, t) => w.WriteBooleanValue(t.GoalReached));
        Add("is_private", FactNeeds.Details, (w, t) => w.WriteBooleanValue(t.Details.IsPrivate));
        Add("is_stalled", none, (w, t) => w.WriteBooleanValue(IsStalled(t)));
        Add("labels", none, (w, t) =>
        {
            w.WriteStartArray();
            foreach (string tag in t.View.Tags) w.WriteStringValue(tag);
            w.WriteEndArray();
        });
        Add("left_until_done", none, (w, t) => w.WriteNumberValue(t.LeftUntilDone));
        Add("magnet_link", FactNeeds.Details, (w, t) => w.WriteStringValue(t.Details.Magnet));
        Add("manual_announce_time", none, (w, _) => w.WriteNumberValue(-1));
        Add("max_connected_peers", FactNeeds.Settings, (w, t) => w.WriteNumberValue(PeerLimit(t)));
        Add("metadata_percent_complete", none, (w, t) => w.WriteNumberValue(t.View.HasMetadata ? 1 : 0));
        Add("name", none, (w, t) => w.WriteStringValue(t.View.Name));
        Add("peer_limit", FactNeeds.Settings, (w, t) => w.WriteNumberValue(PeerLimit(t)));
        Add("peers", FactNeeds.Peers, TorrentFieldLists.Peers);
        Add("peers_connected", none, (w, t) => w.WriteNumberValue(t.View.Peers));
        Add("peers_from", FactNeeds.Peers, TorrentFieldLists.PeersFrom);
        Add("peers_getting_from_us", FactNeeds.Peers, (w, t) => w.WriteNumberValue(t.Peers.Count(p => p.Flags.Contains('U', StringComparison.Ordinal))));
        Add("peers_sending_to_us", FactNeeds.Peers, (w, t) => w.WriteNumberValue(t.Peers.Count(p => p.Flags.Contains('D', StringComparison.Ordinal))));
        Add("percent_complete", none, (w, t) => w.WriteNumberValue(t.View.TotalSize > 0 ? Math.Min(1, (double)t.View.DoneBytes / t.View.TotalSize) : 0));
        Add("percent_done", none, (w, t) => w.WriteNumberValue(t.View.Progress));
        Add("pieces", none, (w, t) => w.WriteBase64StringValue(PieceMap.Have(t.View)));
        Add("piece_count", none, (w, t) => w.WriteNumberValue(t.View.PieceCount));
        Add("piece_size", none, (w, t) => w.WriteNumberValue(t.View.PieceSize));
        Add("priorities", FactNeeds.Files, (w, t) =>
        {
            w.WriteStartArray();
            foreach (FileView file in t.Files) w.WriteNumberValue(Priority(file.Priority));
            w.WriteEndArray();
        });
        Add("primary_mime_type", FactNeeds.Files, (w, t) => w.WriteStringValue(MimeType(t.Files)));
        Add("queue_position", none, (w, t) => w.WriteNumberValue(t.View.QueuePosition));
        Add("rate_download", none, (w, t) => w.WriteNumberValue(t.View.DownRate));
        Add("rate_upload", none, (w, t) => w.WriteNumberValue(t.View.UpRate));
        Add("recheck_progress", none, (w, t) => w.WriteNumberValue(t.View.State == TorrentActivity.Checking ? t.View.Progress : 0));
        Add("seconds_downloading", none, (w, t) => w.WriteNumberValue(Math.Max(0, t.View.ActiveSeconds - t.View.SeedingSeconds)));
        Add("seconds_seeding", none, (w, t) => w.WriteNumberValue(t.View.SeedingSeconds));
        Add("seed_idle_limit", FactNeeds.Settings, (w, t) => w.WriteNumberValue(IdleLimit(t)));
        Add("seed_idle_mode", FactNeeds.Settings, (w, t) => w.WriteNumberValue(Mode(t.Settings.IdleLimitMinutes)));
        Add("seed_ratio_limit", FactNeeds.Settings, (w, t) => w.WriteNumberValue(RatioLimit(t)));
        Add("seed_ratio_mode", FactNeeds.Settings, (w, t) => w.WriteNumberValue(Mode(t.Settings.RatioLimit)));
        Add("sequential_download", none, (w, t) => w.WriteBooleanValue(t.View.Sequential));
        Add("sequential_download_from_piece", none, (w, _) => w.WriteNumberValue(0));
        Add("size_when_done", none, (w, t) => w.WriteNumberValue(t.View.WantedSize));
        // The daemon does not keep when a torrent last started; 0 is Transmission's "never".
        Add("start_date", none, (w, _) => w.WriteNumberValue(0));
        Add("status", none, (w, t) => w.WriteNumberValue(Status(t.View)));
        Add("torrent_file", none, (w, _) => w.WriteStringValue(""));
        Add("total_size", none, (w, t) => w.WriteNumberValue(t.View.TotalSize));
        Add("trackers", FactNeeds.Trackers, TorrentFieldLists.Trackers);
        Add("tracker_list", FactNeeds.Trackers, (w, t) => w.WriteStringValue(TorrentFieldLists.TrackerList(t.Trackers)));
        Add("tracker_stats", FactNeeds.Trackers, TorrentFieldLists.TrackerStats);
        Add("uploaded_ever", none, (w, t) => w.WriteNumberValue(t.View.Uploaded));
        Add("upload_limit", none, (w, t) => w.WriteNumberValue(t.View.UploadLimit / 1000));
        Add("upload_limited", none, (w, t) => w.WriteBooleanValue(t.View.UploadLimit > 0));
        Add("upload_ratio", none, (w, t) => w.WriteNumberValue(UploadRatio(t.View)));
        Add("wanted", FactNeeds.Files, (w, t) =>
        {
            w.WriteStartArray();
            foreach (FileView file in t.Files)
            {
                // The classic form answers 0 and 1 (what clients of Transmission 3 and 4.0 read); JSON-RPC booleans.
                if (t.Style == RpcStyle.JsonRpc) w.WriteBooleanValue(file.Priority != FilePriority.Skip);
                else w.WriteNumberValue(file.Priority == FilePriority.Skip ? 0 : 1);
            }
            w.WriteEndArray();
        });
        Add("webseeds", none, (w, _) =>
        {
            w.WriteStartArray();
            w.WriteEndArray();
        });
        Add("webseeds_ex", none, (w, _) =>
        {
            w.WriteStartArray();
            w.WriteEndArray();
        });
        Add("webseeds_sending_to_us", none, (w, _) => w.WriteNumberValue(0));
        return f;
    }

    /// <summary>Seconds to completion; -1 when not downloading, -2 when downloading at no speed (Transmission's "unknown").</summary>
    public static long Eta(TorrentView v)
    {
        if (v.State is not (TorrentActivity.Downloading or TorrentActivity.FetchingMetadata)) return -1;
        return v.EtaSeconds is { } eta ? Math.Min(eta, int.MaxValue) : -2;
    }

    /// <summary>Uploaded over downloaded; -1 when there is nothing either way (Transmission's "not available").</summary>
    public static double UploadRatio(TorrentView v) => v.Downloaded == 0 && v.Uploaded == 0 && v.DoneBytes == 0 ? -1 : v.Ratio;

    /// <summary>Stalled: running, and no payload moved in Transmission's default 30 minutes.</summary>
    private static bool IsStalled(TorrentFacts t)
    {
        if (t.View.State is not (TorrentActivity.Downloading or TorrentActivity.Seeding)) return false;
        DateTimeOffset last = t.View.LastActivity ?? t.View.AddedAt;
        return t.Now - last > TimeSpan.FromMinutes(30);
    }

    private static int PeerLimit(TorrentFacts t) => t.Settings.MaxConnections > 0 ? t.Settings.MaxConnections : t.Session.MaxConnectionsPerTorrent;

    /// <summary>0 follows the session's goal, 1 the torrent's own, 2 none (Transmission's tr_ratiolimit and tr_idlelimit).</summary>
    private static int Mode(double? own) => own is not double value ? 0 : value >= 0 ? 1 : 2;

    /// <summary>The torrent's own ratio goal, else the session's, else Transmission's default (shown even when not in force).</summary>
    private static double RatioLimit(TorrentFacts t)
    {
        if (t.Settings.RatioLimit is double own && own >= 0) return own;
        return t.Session.RatioLimit >= 0 ? t.Session.RatioLimit : SessionMethods.DefaultRatioLimit;
    }

    /// <summary>The torrent's own idle goal, else the session's, else Transmission's default (shown even when not in force).</summary>
    private static int IdleLimit(TorrentFacts t)
    {
        if (t.Settings.IdleLimitMinutes is int own && own >= 0) return own;
        return t.Session.IdleLimitMinutes >= 0 ? t.Session.IdleLimitMinutes : SessionMethods.DefaultIdleLimitMinutes;
    }

    /// <summary>The content type of the torrent's largest file, by its extension.</summary>
    private static string MimeType(IReadOnlyList<FileView> files)
    {
        FileView? largest = null;
        foreach (FileView file in files)
        {
            if (largest is null || file.Size > largest.Size) largest = file;
        }
        return largest is not null && MimeTypes.TryGetContentType(largest.Path, out string? type) ? type : "application/octet-stream";
    }
}
