using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using Shoal.Daemon.Service;

namespace Shoal.Daemon.Transmission;

/// <summary>
/// The session methods of Transmission's RPC (rpc-spec.md 4): session-get and -set over the daemon's settings,
/// session-stats, free-space, port-test. Speeds are in kB/s of 1000 bytes (the <c>units</c> object says so).
/// </summary>
internal sealed class SessionMethods(TorrentService service, RecentActivity recent, string sessionId, string configDir, SessionStatsView atStart)
{
    /// <summary>Transmission's default seed ratio, shown when no ratio goal is in force.</summary>
    public const double DefaultRatioLimit = 2;

    /// <summary>Transmission's default idle limit in minutes, shown when no idle goal is in force.</summary>
    public const int DefaultIdleLimitMinutes = 30;

    /// <summary>Transmission's default download queue size, used when the queue is switched on without a size.</summary>
    private const int DefaultQueueSize = 5;

    /// <summary>Transmission's default seed queue size, likewise.</summary>
    private const int DefaultSeedQueueSize = 10;

    /// <summary>The RPC version Shoal speaks: Transmission 4.1's (JSON-RPC 2.0 and snake_case, with the old form kept).</summary>
    public const int RpcVersion = 18;

    public const string RpcVersionSemver = "6.0.0";

    /// <summary>What session-get answers as <c>version</c>: a Transmission version first (clients parse it), then Shoal's.</summary>
    public static string Version => $"4.1.0 (Shoal {DaemonVersion.Text})";

    public ArgumentsWriter Get(RpcArgs args, RpcStyle style)
    {
        var values = Values(style);
        IReadOnlyList<string>? fields = args.StringList("fields");
        return w =>
        {
            if (fields is null)
            {
                foreach ((string snake, string legacy, Action<Utf8JsonWriter> write) in values)
                {
                    w.Key(style, snake, legacy);
                    write(w);
                }
                return;
            }
            var bySnake = values.ToDictionary(v => v.Snake, StringComparer.Ordinal);
            foreach (string field in fields.Distinct(StringComparer.Ordinal))
            {
                if (!bySnake.TryGetValue(RpcNames.ToSnake(field), out var value)) continue;
                w.WritePropertyName(field);
                value.Write(w);
            }
        };
    }

    private List<(string Snake, string Legacy, Action<Utf8JsonWriter> Write)> Values(RpcStyle style)
    {
        DaemonSettings s = service.Settings;
        SessionStatsView stats = service.GetStats();
        var v = new List<(string, string, Action<Utf8JsonWriter>)>();
        void Add(string snake, string legacy, Action<Utf8JsonWriter> write) => v.Add((snake, legacy, write));
        Add("alt_speed_down", "alt-speed-down", w => w.WriteNumberValue(s.AltDownloadLimit / 1000));
        Add("alt_speed_enabled", "alt-speed-enabled", w => w.WriteBooleanValue(s.AltSpeedEnabled));
        Add("alt_speed_time_begin", "alt-speed-time-begin", w => w.WriteNumberValue(s.AltScheduleBegin));
        Add("alt_speed_time_day", "alt-speed-time-day", w => w.WriteNumberValue(s.AltScheduleDays));
        Add("alt_speed_time_enabled", "alt-speed-time-enabled", w => w.WriteBooleanValue(s.AltScheduleEnabled));
        Add("alt_speed_time_end", "alt-speed-time-end", w => w.WriteNumberValue(s.AltScheduleEnd));
        Add("alt_speed_up", "alt-speed-up", w => w.WriteNumberValue(s.AltUploadLimit / 1000));
        Add("anti_brute_force_enabled", "anti-brute-force-enabled", w => w.WriteBooleanValue(true));
        Add("blocklist_enabled", "blocklist-enabled", w => w.WriteBooleanValue(false));
        Add("blocklist_size", "blocklist-size", w => w.WriteNumberValue(0));
        Add("blocklist_url", "blocklist-url", w => w.WriteStringValue(""));
        Add(style == RpcStyle.JsonRpc ? "cache_size_mib" : "cache_size_mb", "cache-size-mb", w => w.WriteNumberValue(0));
        Add("config_dir", "config-dir", w => w.WriteStringValue(configDir));
        Add("default_trackers", "default-trackers", w => w.WriteStringValue(""));
        Add("dht_enabled", "dht-enabled", w => w.WriteBooleanValue(s.Dht));
        Add("download_dir", "download-dir", w => w.WriteStringValue(s.DefaultSavePath));
        Add("download_dir_free_space", "download-dir-free-space", w => w.WriteNumberValue(stats.FreeSpace));
        Add("download_queue_enabled", "download-queue-enabled", w => w.WriteBooleanValue(s.QueueingEnabled && s.MaxActiveDownloads >= 0));
        Add("download_queue_size", "download-queue-size", w => w.WriteNumberValue(s.MaxActiveDownloads >= 0 ? s.MaxActiveDownloads : DefaultQueueSize));
        Add("encryption", "encryption", w => w.WriteStringValue(s.Encryption switch { "require" => "required", "disable" => "tolerated", _ => "preferred" }));
        Add("idle_seeding_limit", "idle-seeding-limit", w => w.WriteNumberValue(s.IdleLimitMinutes >= 0 ? s.IdleLimitMinutes : DefaultIdleLimitMinutes));
        Add("idle_seeding_limit_enabled", "idle-seeding-limit-enabled", w => w.WriteBooleanValue(s.IdleLimitMinutes >= 0));
        Add("incomplete_dir", "incomplete-dir", w => w.WriteStringValue(s.IncompletePath.Length > 0 ? s.IncompletePath : s.DefaultSavePath));
        Add("incomplete_dir_enabled", "incomplete-dir-enabled", w => w.WriteBooleanValue(s.IncompletePathEnabled));
        Add("lpd_enabled", "lpd-enabled", w => w.WriteBooleanValue(s.Lsd));
        Add("peer_limit_global", "peer-limit-global", w => w.WriteNumberValue(s.MaxConnections));
        Add("peer_limit_per_torrent", "peer-limit-per-torrent", w => w.WriteNumberValue(s.MaxConnectionsPerTorrent));
        Add("peer_port", "peer-port", w => w.WriteNumberValue(stats.ListenPort));
        Add("peer_port_random_on_start", "peer-port-random-on-start", w => w.WriteBooleanValue(false));
        Add("pex_enabled", "pex-enabled", w => w.WriteBooleanValue(s.Pex));
        Add("port_forwarding_enabled", "port-forwarding-enabled", w => w.WriteBooleanValue(false));
        Add("queue_stalled_enabled", "queue-stalled-enabled", w => w.WriteBooleanValue(false));
        Add("queue_stalled_minutes", "queue-stalled-minutes", w => w.WriteNumberValue(30));
        Add("rename_partial_files", "rename-partial-files", w => w.WriteBooleanValue(false));
        Add("rpc_version", "rpc-version", w => w.WriteNumberValue(RpcVersion));
        Add("rpc_version_minimum", "rpc-version-minimum", w => w.WriteNumberValue(14));
        Add("rpc_version_semver", "rpc-version-semver", w => w.WriteStringValue(RpcVersionSemver));
        Add("script_torrent_added_enabled", "script-torrent-added-enabled", w => w.WriteBooleanValue(false));
        Add("script_torrent_added_filename", "script-torrent-added-filename", w => w.WriteStringValue(""));
        Add("script_torrent_done_enabled", "script-torrent-done-enabled", w => w.WriteBooleanValue(false));
        Add("script_torrent_done_filename", "script-torrent-done-filename", w => w.WriteStringValue(""));
        Add("script_torrent_done_seeding_enabled", "script-torrent-done-seeding-enabled", w => w.WriteBooleanValue(false));
        Add("script_torrent_done_seeding_filename", "script-torrent-done-seeding-filename", w => w.WriteStringValue(""));
        Add("seed_queue_enabled", "seed-queue-enabled", w => w.WriteBooleanValue(s.QueueingEnabled && s.MaxActiveSeeds >= 0));
        Add("seed_queue_size", "seed-queue-size", w => w.WriteNumberValue(s.MaxActiveSeeds >= 0 ? s.MaxActiveSeeds : DefaultSeedQueueSize));
        Add("seed_ratio_limit", "seedRatioLimit", w => w.WriteNumberValue(s.RatioLimit >= 0 ? s.RatioLimit : DefaultRatioLimit));
        Add("seed_ratio_limited", "seedRatioLimited", w => w.WriteBooleanValue(s.RatioLimit >= 0));
        Add("sequential_download", "sequential_download", w => w.WriteBooleanValue(false));
        Add("session_id", "session-id", w => w.WriteStringValue(sessionId));
        Add("speed_limit_down", "speed-limit-down", w => w.WriteNumberValue(s.DownloadLimit > 0 ? s.DownloadLimit / 1000 : TorrentSettingsPatch.DefaultLimitKilobytes));
        Add("speed_limit_down_enabled", "speed-limit-down-enabled", w => w.WriteBooleanValue(s.DownloadLimit > 0));
        Add("speed_limit_up", "speed-limit-up", w => w.WriteNumberValue(s.UploadLimit > 0 ? s.UploadLimit / 1000 : TorrentSettingsPatch.DefaultLimitKilobytes));
        Add("speed_limit_up_enabled", "speed-limit-up-enabled", w => w.WriteBooleanValue(s.UploadLimit > 0));
        Add("start_added_torrents", "start-added-torrents", w => w.WriteBooleanValue(true));
        Add("tcp_enabled", "tcp-enabled", w => w.WriteBooleanValue(true));
        Add("trash_original_torrent_files", "trash-original-torrent-files", w => w.WriteBooleanValue(false));
        Add("units", "units", w => Units(w, style));
        Add("utp_enabled", "utp-enabled", w => w.WriteBooleanValue(false));
        Add("version", "version", w => w.WriteStringValue(Version));
        return v;
    }

    private static void Units(Utf8JsonWriter w, RpcStyle style)
    {
        bool old = style == RpcStyle.Legacy;
        w.WriteStartObject();
        w.Key(style, "memory_bytes", "memory-bytes");
        w.WriteNumberValue(1024);
        w.Key(style, "memory_units", "memory-units");
        Strings(w, old ? ["KiB", "MiB", "GiB", "TiB"] : ["B", "KiB", "MiB", "GiB", "TiB"]);
        w.Key(style, "size_bytes", "size-bytes");
        w.WriteNumberValue(1000);
        w.Key(style, "size_units", "size-units");
        Strings(w, old ? ["kB", "MB", "GB", "TB"] : ["B", "kB", "MB", "GB", "TB"]);
        w.Key(style, "speed_bytes", "speed-bytes");
        w.WriteNumberValue(1000);
        w.Key(style, "speed_units", "speed-units");
        Strings(w, old ? ["kB/s", "MB/s", "GB/s", "TB/s"] : ["B/s", "kB/s", "MB/s", "GB/s", "TB/s"]);
        w.WriteEndObject();
    }

    private static void Strings(Utf8JsonWriter w, string[] values)
    {
        w.WriteStartArray();
        foreach (string value in values) w.WriteStringValue(value);
        w.WriteEndArray();
    }

    /// <summary>
    /// session-set: the keys the daemon has a setting for are changed (and kept); read-only and unknown keys are
    /// ignored, as Transmission ignores keys it does not know.
    /// </summary>
    public async Task SetAsync(RpcArgs args)
    {
        DaemonSettings s = service.Settings;
        var patch = new JsonObject();
        if (args.Long("alt_speed_down") is long altDown) patch["alt_download_limit"] = NonNegative(altDown, "alt-speed-down") * 1000;
        if (args.Long("alt_speed_up") is long altUp) patch["alt_upload_limit"] = NonNegative(altUp, "alt-speed-up") * 1000;
        if (args.Bool("alt_speed_enabled") is bool alt) patch["alt_speed_enabled"] = alt;
        if (args.Int("alt_speed_time_begin") is int begin) patch["alt_schedule_begin"] = begin;
        if (args.Int("alt_speed_time_end") is int end) patch["alt_schedule_end"] = end;
        if (args.Int("alt_speed_time_day") is int days) patch["alt_schedule_days"] = days;
        if (args.Bool("alt_speed_time_enabled") is bool scheduled) patch["alt_schedule_enabled"] = scheduled;
        if (args.Bool("dht_enabled") is bool dht) patch["dht"] = dht;
        if (args.Bool("lpd_enabled") is bool lpd) patch["lsd"] = lpd;
        if (args.Bool("pex_enabled") is bool pex) patch["pex"] = pex;
        // Transmission's "tolerated" is plaintext first; Shoal's nearest is "disable" (plaintext connections only).
        if (args.String("encryption") is { } encryption)
        {
            patch["encryption"] = encryption switch
            {
                "required" => "require",
                "preferred" => "prefer",
                "tolerated" => "disable",
                _ => throw RpcException.Params($"encryption is required, preferred or tolerated, not '{encryption}'"),
            };
        }
        if (args.String("download_dir") is { Length: > 0 } dir) patch["default_save_path"] = dir;
        if (args.String("incomplete_dir") is { Length: > 0 } incomplete) patch["incomplete_path"] = incomplete;
        if (args.Bool("incomplete_dir_enabled") is bool incompleteOn) patch["incomplete_path_enabled"] = incompleteOn;
        if (args.Int("peer_limit_global") is int peers) patch["max_connections"] = peers;
        if (args.Int("peer_limit_per_torrent") is int perTorrent) patch["max_connections_per_torrent"] = perTorrent;
        Queue(args, "download_queue_enabled", "download_queue_size", s.MaxActiveDownloads, DefaultQueueSize, "max_active_downloads", patch);
        Queue(args, "seed_queue_enabled", "seed_queue_size", s.MaxActiveSeeds, DefaultSeedQueueSize, "max_active_seeds", patch);
        if (args.Bool("seed_ratio_limited") == false) patch["ratio_limit"] = -1;
        else if (args.Double("seed_ratio_limit") is double ratio && (args.Bool("seed_ratio_limited") == true || s.RatioLimit >= 0)) patch["ratio_limit"] = NonNegative(ratio, "seedRatioLimit");
        else if (args.Bool("seed_ratio_limited") == true && s.RatioLimit < 0) patch["ratio_limit"] = DefaultRatioLimit;
        if (args.Bool("idle_seeding_limit_enabled") == false) patch["idle_limit_minutes"] = -1;
        else if (args.Int("idle_seeding_limit") is int idle && (args.Bool("idle_seeding_limit_enabled") == true || s.IdleLimitMinutes >= 0)) patch["idle_limit_minutes"] = NonNegative(idle, "idle-seeding-limit");
        else if (args.Bool("idle_seeding_limit_enabled") == true && s.IdleLimitMinutes < 0) patch["idle_limit_minutes"] = DefaultIdleLimitMinutes;
        SpeedLimit(args, "speed_limit_down", "speed_limit_down_enabled", s.DownloadLimit, "download_limit", patch);
        SpeedLimit(args, "speed_limit_up", "speed_limit_up_enabled", s.UploadLimit, "upload_limit", patch);
        if (patch.Count > 0) await service.UpdateSettingsAsync(patch).ConfigureAwait(false);
    }

    /// <summary>A queue switched off is no limit; on, its size (the one given, the current one, or Transmission's default).</summary>
    private static void Queue(RpcArgs args, string enabledName, string sizeName, int current, int defaultSize, string key, JsonObject patch)
    {
        bool? enabled = args.Bool(enabledName);
        int? size = args.Int(sizeName);
        if (enabled == false) patch[key] = -1;
        else if (size is { } n && (enabled == true || current >= 0)) patch[key] = NonNegative(n, sizeName);
        else if (enabled == true && current < 0) patch[key] = defaultSize;
    }

    /// <summary>Transmission keeps a limit's value and its switch apart; the daemon has one value, 0 for none.</summary>
    private static void SpeedLimit(RpcArgs args, string valueName, string switchName, long current, string key, JsonObject patch)
    {
        long? kilobytes = args.Long(valueName);
        bool? on = args.Bool(switchName);
        if (on == false) patch[key] = 0;
        else if (kilobytes is { } k && (on == true || current > 0)) patch[key] = NonNegative(k, valueName) * 1000;
        else if (on == true && current == 0) patch[key] = TorrentSettingsPatch.DefaultLimitKilobytes * 1000;
    }

    private static T NonNegative<T>(T value, string name) where T : System.Numerics.INumber<T>
        => value >= T.Zero ? value : throw RpcException.Params($"'{name}' must be 0 or more");

    public ArgumentsWriter Stats(RpcStyle style)
    {
        SessionStatsView now = service.GetStats();
        int active = service.List().Count(v => v.DownRate > 0 || v.UpRate > 0);
        long downloaded = Math.Max(0, now.Downloaded - atStart.Downloaded);
        long uploaded = Math.Max(0, now.Uploaded - atStart.Uploaded);
        return w =>
        {
            w.Key(style, "active_torrent_count", "activeTorrentCount");
            w.WriteNumberValue(active);
            w.Key(style, "download_speed", "downloadSpeed");
            w.WriteNumberValue(now.DownRate);
            w.Key(style, "paused_torrent_count", "pausedTorrentCount");
            w.WriteNumberValue(now.Paused);
            w.Key(style, "torrent_count", "torrentCount");
            w.WriteNumberValue(now.Torrents);
            w.Key(style, "upload_speed", "uploadSpeed");
            w.WriteNumberValue(now.UpRate);
            // The daemon counts bytes over the life of its torrents; "cumulative" is that, "current" what moved since it started.
            w.Key(style, "cumulative_stats", "cumulative-stats");
            StatsObject(w, style, now.Uploaded, now.Downloaded, now.Torrents, 1, now.UptimeSeconds);
            w.Key(style, "current_stats", "current-stats");
            StatsObject(w, style, uploaded, downloaded, recent.Added, 1, now.UptimeSeconds);
        };
    }

    private static void StatsObject(Utf8JsonWriter w, RpcStyle style, long uploaded, long downloaded, int files, int sessions, long seconds)
    {
        w.WriteStartObject();
        w.Key(style, "downloaded_bytes", "downloadedBytes");
        w.WriteNumberValue(downloaded);
        w.Key(style, "files_added", "filesAdded");
        w.WriteNumberValue(files);
        w.Key(style, "seconds_active", "secondsActive");
        w.WriteNumberValue(seconds);
        w.Key(style, "session_count", "sessionCount");
        w.WriteNumberValue(sessions);
        w.Key(style, "uploaded_bytes", "uploadedBytes");
        w.WriteNumberValue(uploaded);
        w.WriteEndObject();
    }

    /// <summary>free-space of a folder inside the daemon's folders (others are refused: the API reads nothing outside them).</summary>
    public ArgumentsWriter FreeSpace(RpcArgs args, RpcStyle style)
    {
        string path = args.String("path") is { Length: > 0 } p ? p : throw RpcException.Params("'path' is required");
        string full;
        try
        {
            full = service.Folders.Confine(path, "the folder");
        }
        catch (ServiceException ex)
        {
            throw new RpcException(RpcErrorCode.SystemError, ex.Message);
        }
        long free = TorrentService.FreeSpace(full);
        long total = -1;
        try
        {
            // The folder may not exist yet: its file system is the one of its nearest existing parent.
            string? existing = full;
            while (existing is not null && !Directory.Exists(existing)) existing = Path.GetDirectoryName(existing);
            if (existing is not null) total = new DriveInfo(existing).TotalSize;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
        }
        if (free < 0) throw new RpcException(RpcErrorCode.SystemError, $"{path}: the free space is not known");
        return w =>
        {
            w.WriteString("path", path);
            w.Key(style, "size_bytes", "size-bytes");
            w.WriteNumberValue(free);
            w.WriteNumber("total_size", total);
        };
    }

    /// <summary>
    /// port-test, answered from evidence only: Shoal asks no outside service to connect back, so the port is
    /// reported open when a peer from a public address is connected in through it; otherwise Shoal cannot tell, and
    /// says so as an error (Transmission answers an error when its test service cannot be reached).
    /// </summary>
    public ArgumentsWriter PortTest(RpcArgs args, RpcStyle style)
    {
        string? protocol = args.String("ip_protocol");
        AddressFamily? family = protocol switch
        {
            null => null,
            "ipv4" => AddressFamily.InterNetwork,
            "ipv6" => AddressFamily.InterNetworkV6,
            _ => throw RpcException.Params("'ipProtocol' is \"ipv4\" or \"ipv6\""),
        };
        foreach (TorrentView view in service.List())
        {
            if (view.Peers == 0) continue;
            IReadOnlyList<PeerView> peers;
            try
            {
                peers = service.GetPeers(view.InfoHash);
            }
            catch (ServiceException)
            {
                continue;
            }
            foreach (PeerView peer in peers)
            {
                if (!peer.Incoming || !IPEndPoint.TryParse(peer.Address, out IPEndPoint? endPoint)) continue;
                IPAddress address = endPoint.Address.IsIPv4MappedToIPv6 ? endPoint.Address.MapToIPv4() : endPoint.Address;
                if (family is { } f && address.AddressFamily != f) continue;
                if (!IsPublic(address)) continue;
                string seen = address.AddressFamily == AddressFamily.InterNetwork ? "ipv4" : "ipv6";
                return w =>
                {
                    w.Key(style, "port_is_open", "port-is-open");
                    w.WriteBooleanValue(true);
                    w.Key(style, "ip_protocol", "ipProtocol");
                    w.WriteStringValue(seen);
                };
            }
        }
        throw new RpcException(RpcErrorCode.HttpError,
            $"cannot tell whether peer port {service.GetStats().ListenPort} is open: Shoal asks no outside service to connect back, and no peer from the internet is connected in through it now");
    }

    private static bool IsPublic(IPAddress address)
    {
        if (IPAddress.IsLoopback(address) || address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6UniqueLocal) return false;
        if (address.AddressFamily != AddressFamily.InterNetwork) return true;
        byte[] b = address.GetAddressBytes();
        return !(b[0] == 10 || b[0] == 127 || (b[0] == 172 && b[1] >= 16 && b[1] <= 31) || (b[0] == 192 && b[1] == 168)
            || (b[0] == 169 && b[1] == 254) || (b[0] == 100 && b[1] >= 64 && b[1] <= 127) || b[0] == 0);
    }
}
