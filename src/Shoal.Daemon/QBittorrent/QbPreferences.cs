using System.Text.Json;
using System.Text.Json.Nodes;
using Shoal.Daemon.Security;
using Shoal.Daemon.Service;

namespace Shoal.Daemon.QBittorrent;

/// <summary>
/// app/preferences and app/setPreferences over the daemon's settings. The preferences the daemon has are shown and
/// changed (rates in bytes per second, times in minutes as qBittorrent's); the others are shown with the value
/// that describes Shoal and ignored when set, as qBittorrent ignores keys it does not know.
/// </summary>
internal static class QbPreferences
{
    // qBittorrent's scheduler_days (0 every day, 1 weekdays, 2 weekends, 3 Monday ... 9 Sunday) as Transmission's day mask.
    private static readonly int[] DayMasks = [127, 62, 65, 2, 4, 8, 16, 32, 64, 1];

    public static void Write(Utf8JsonWriter w, DaemonSettings s, DaemonSecurity security, int listenPort, int webPort, string webBind)
    {
        w.WriteStartObject();
        w.WriteString("locale", "en");
        w.WriteString("save_path", s.DefaultSavePath);
        w.WriteBoolean("temp_path_enabled", s.IncompletePathEnabled);
        w.WriteString("temp_path", s.IncompletePath);
        w.WriteStartObject("scan_dirs");
        w.WriteEndObject();
        w.WriteString("export_dir", "");
        w.WriteString("export_dir_fin", "");
        w.WriteBoolean("add_stopped_enabled", false);
        w.WriteBoolean("start_paused_enabled", false);
        w.WriteString("torrent_content_layout", "Original");
        w.WriteBoolean("create_subfolder_enabled", true);
        w.WriteBoolean("add_to_top_of_queue", false);
        w.WriteBoolean("auto_tmm_enabled", false);
        w.WriteBoolean("preallocate_all", false);
        w.WriteBoolean("incomplete_files_ext", false);
        w.WriteNumber("listen_port", listenPort);
        w.WriteBoolean("random_port", false);
        w.WriteBoolean("upnp", false);
        w.WriteNumber("max_connec", s.MaxConnections);
        w.WriteNumber("max_connec_per_torrent", s.MaxConnectionsPerTorrent);
        w.WriteNumber("max_uploads", -1);
        w.WriteNumber("max_uploads_per_torrent", s.UploadSlotsPerTorrent);
        w.WriteNumber("dl_limit", s.DownloadLimit);
        w.WriteNumber("up_limit", s.UploadLimit);
        w.WriteNumber("alt_dl_limit", s.AltDownloadLimit);
        w.WriteNumber("alt_up_limit", s.AltUploadLimit);
        w.WriteNumber("bittorrent_protocol", 1); // TCP
        w.WriteBoolean("limit_utp_rate", true);
        w.WriteBoolean("limit_tcp_overhead", false);
        w.WriteBoolean("limit_lan_peers", true);
        w.WriteBoolean("scheduler_enabled", s.AltScheduleEnabled);
        w.WriteNumber("schedule_from_hour", s.AltScheduleBegin / 60);
        w.WriteNumber("schedule_from_min", s.AltScheduleBegin % 60);
        w.WriteNumber("schedule_to_hour", s.AltScheduleEnd / 60);
        w.WriteNumber("schedule_to_min", s.AltScheduleEnd % 60);
        w.WriteNumber("scheduler_days", Math.Max(0, Array.IndexOf(DayMasks, s.AltScheduleDays)));
        w.WriteBoolean("dht", s.Dht);
        w.WriteBoolean("pex", s.Pex);
        w.WriteBoolean("lsd", s.Lsd);
        w.WriteNumber("encryption", s.Encryption switch { "require" => 1, "disable" => 2, _ => 0 });
        w.WriteBoolean("anonymous_mode", false);
        w.WriteBoolean("ssrf_mitigation", s.SsrfMitigation);
        w.WriteBoolean("queueing_enabled", s.QueueingEnabled);
        w.WriteNumber("max_active_downloads", s.MaxActiveDownloads);
        w.WriteNumber("max_active_uploads", s.MaxActiveSeeds);
        w.WriteNumber("max_active_torrents", s.MaxActiveDownloads >= 0 && s.MaxActiveSeeds >= 0 ? s.MaxActiveDownloads + s.MaxActiveSeeds : -1);
        w.WriteBoolean("dont_count_slow_torrents", false);
        w.WriteBoolean("max_ratio_enabled", s.RatioLimit >= 0);
        w.WriteNumber("max_ratio", s.RatioLimit >= 0 ? s.RatioLimit : -1);
        w.WriteBoolean("max_seeding_time_enabled", s.SeedingTimeLimitMinutes >= 0);
        w.WriteNumber("max_seeding_time", s.SeedingTimeLimitMinutes >= 0 ? s.SeedingTimeLimitMinutes : -1);
        w.WriteBoolean("max_inactive_seeding_time_enabled", s.IdleLimitMinutes >= 0);
        w.WriteNumber("max_inactive_seeding_time", s.IdleLimitMinutes >= 0 ? s.IdleLimitMinutes : -1);
        w.WriteNumber("max_ratio_act", s.SeedingGoalAction == SeedingGoalAction.Remove ? 1 : 0);
        w.WriteString("web_ui_address", webBind);
        w.WriteNumber("web_ui_port", webPort);
        w.WriteString("web_ui_username", "");
        w.WriteBoolean("bypass_local_auth", !security.PasswordRequired);
        w.WriteBoolean("bypass_auth_subnet_whitelist_enabled", false);
        w.WriteString("web_ui_domain_list", string.Join(";", s.AllowedHosts));
        w.WriteBoolean("web_ui_csrf_protection_enabled", true);
        w.WriteBoolean("web_ui_clickjacking_protection_enabled", true);
        w.WriteBoolean("web_ui_secure_cookie_enabled", true);
        w.WriteBoolean("web_ui_host_header_validation_enabled", true);
        w.WriteNumber("web_ui_max_auth_fail_count", LoginThrottle.FreeFailures);
        w.WriteNumber("web_ui_ban_duration", 60);
        w.WriteNumber("web_ui_session_timeout", (long)LoginSessions.IdleTimeout.TotalSeconds);
        w.WriteString("web_ui_api_key", ""); // shown once by app/rotateAPIKey; only its hash is kept
        w.WriteBoolean("use_https", false);
        w.WriteBoolean("alternative_webui_enabled", false);
        w.WriteNumber("refresh_interval", 1500);
        w.WriteBoolean("enable_embedded_tracker", false);
        w.WriteBoolean("announce_to_all_trackers", false);
        w.WriteBoolean("announce_to_all_tiers", true);
        w.WriteBoolean("recheck_completed_torrents", false);
        w.WriteBoolean("resolve_peer_countries", false);
        w.WriteEndObject();
    }

    /// <summary>The settings patch (the daemon's snake_case keys) of a setPreferences JSON object.</summary>
    public static JsonObject Patch(JsonElement prefs, DaemonSettings current)
    {
        if (prefs.ValueKind != JsonValueKind.Object) throw QbException.BadParams("'json' must be a JSON object");
        var patch = new JsonObject();
        void Map(string from, string to, Func<JsonElement, JsonNode?> convert)
        {
            if (prefs.TryGetProperty(from, out JsonElement v)) patch[to] = convert(v);
        }
        Map("save_path", "default_save_path", Text);
        Map("temp_path_enabled", "incomplete_path_enabled", Bool);
        Map("temp_path", "incomplete_path", Text);
        Map("dl_limit", "download_limit", Rate);
        Map("up_limit", "upload_limit", Rate);
        Map("alt_dl_limit", "alt_download_limit", Rate);
        Map("alt_up_limit", "alt_upload_limit", Rate);
        Map("scheduler_enabled", "alt_schedule_enabled", Bool);
        Map("dht", "dht", Bool);
        Map("pex", "pex", Bool);
        Map("lsd", "lsd", Bool);
        Map("ssrf_mitigation", "ssrf_mitigation", Bool);
        // qBittorrent's 0 allows encryption (prefers it), 1 forces it on, 2 forces it off.
        Map("encryption", "encryption", v => Long(v) switch
        {
            0 => "prefer",
            1 => "require",
            2 => "disable",
            _ => throw QbException.BadParams("'encryption' is 0, 1 or 2"),
        });
        Map("max_connec", "max_connections", Number);
        Map("max_connec_per_torrent", "max_connections_per_torrent", Number);
        Map("max_uploads_per_torrent", "upload_slots_per_torrent", Number);
        Map("queueing_enabled", "queueing_enabled", Bool);
        Map("max_active_downloads", "max_active_downloads", Number);
        Map("max_active_uploads", "max_active_seeds", Number);
        Map("max_ratio_act", "seeding_goal_action", v => Long(v) == 1 ? "remove" : "pause");
        if (prefs.TryGetProperty("web_ui_domain_list", out JsonElement domains))
        {
            var hosts = new JsonArray();
            foreach (string host in (domains.GetString() ?? "").Split([';', ','], StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (host != "*") hosts.Add(host);
            }
            patch["allowed_hosts"] = hosts;
        }
        Time(prefs, "schedule_from_hour", "schedule_from_min", current.AltScheduleBegin, "alt_schedule_begin", patch);
        Time(prefs, "schedule_to_hour", "schedule_to_min", current.AltScheduleEnd, "alt_schedule_end", patch);
        if (prefs.TryGetProperty("scheduler_days", out JsonElement days))
        {
            long day = Long(days);
            patch["alt_schedule_days"] = day >= 0 && day < DayMasks.Length ? DayMasks[day] : throw QbException.BadParams("'scheduler_days' is 0 to 9");
        }
        Goal(prefs, "max_ratio_enabled", "max_ratio", current.RatioLimit, "ratio_limit", v => v.GetDouble(), patch);
        Goal(prefs, "max_seeding_time_enabled", "max_seeding_time", current.SeedingTimeLimitMinutes, "seeding_time_limit_minutes", v => Long(v), patch);
        Goal(prefs, "max_inactive_seeding_time_enabled", "max_inactive_seeding_time", current.IdleLimitMinutes, "idle_limit_minutes", v => Long(v), patch);
        return patch;
    }

    /// <summary>A goal's switch and value: off is -1 (none); a value while on (or turned on) is the goal.</summary>
    private static void Goal(JsonElement prefs, string switchName, string valueName, double current, string key, Func<JsonElement, double> read, JsonObject patch)
    {
        bool? on = prefs.TryGetProperty(switchName, out JsonElement s) ? Bool(s)!.GetValue<bool>() : null;
        double? value = prefs.TryGetProperty(valueName, out JsonElement v) ? read(v) : null;
        if (on == false) patch[key] = -1;
        else if (value is { } n && n >= 0 && (on == true || current >= 0)) patch[key] = n;
        else if (on == true && current < 0) patch[key] = value is { } given && given >= 0 ? given : throw QbException.BadParams($"'{valueName}' is needed to enable it");
    }

    private static void Time(JsonElement prefs, string hourName, string minuteName, int current, string key, JsonObject patch)
    {
        bool hour = prefs.TryGetProperty(hourName, out JsonElement h);
        bool minute = prefs.TryGetProperty(minuteName, out JsonElement m);
        if (!hour && !minute) return;
        long hours = hour ? Long(h) : current / 60;
        long minutes = minute ? Long(m) : current % 60;
        patch[key] = hours * 60 + minutes;
    }

    private static JsonNode? Text(JsonElement v) => v.ValueKind == JsonValueKind.String ? v.GetString() : throw QbException.BadParams("a preference has a value of the wrong type");

    private static JsonNode? Bool(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Number => v.GetDouble() != 0,
        _ => throw QbException.BadParams("a preference has a value of the wrong type"),
    };

    private static JsonNode? Number(JsonElement v) => Long(v);

    /// <summary>A rate in bytes per second; qBittorrent's -1 (and 0) is no limit.</summary>
    private static JsonNode? Rate(JsonElement v) => Math.Max(0, Long(v));

    private static long Long(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.Number when v.TryGetInt64(out long n) => n,
        JsonValueKind.Number => (long)v.GetDouble(),
        JsonValueKind.String when long.TryParse(v.GetString(), out long s) => s,
        _ => throw QbException.BadParams("a preference has a value of the wrong type"),
    };
}
