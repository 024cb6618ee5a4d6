using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Shoal.Daemon.Service;

namespace Shoal.Daemon.QBittorrent;

/// <summary>The transfer/ scope: global rates and totals, the alternative speed limits, the global limits (bytes per second, 0 none).</summary>
internal sealed class QbTransferActions(TorrentService service)
{
    public Task<QbResult> Info(QbCall call)
    {
        SessionStatsView stats = service.GetStats();
        string status = ConnectionStatus(service);
        return Task.FromResult(QbResult.OfJson(w =>
        {
            w.WriteStartObject();
            WriteInfo(w, stats, status);
            w.WriteEndObject();
        }));
    }

    /// <summary>The transfer info fields (also part of sync/maindata's server_state).</summary>
    public static void WriteInfo(Utf8JsonWriter w, SessionStatsView stats, string connectionStatus)
    {
        foreach ((string name, QbValue value) in Values(stats, connectionStatus))
        {
            w.WritePropertyName(name);
            value.WriteTo(w);
        }
    }

    public static IEnumerable<(string Name, QbValue Value)> Values(SessionStatsView stats, string connectionStatus)
    {
        yield return ("connection_status", connectionStatus);
        yield return ("dht_nodes", stats.DhtNodes);
        yield return ("dl_info_data", stats.Downloaded);
        yield return ("dl_info_speed", stats.DownRate);
        yield return ("dl_rate_limit", stats.DownloadLimit);
        yield return ("last_external_address_v4", "");
        yield return ("last_external_address_v6", "");
        yield return ("up_info_data", stats.Uploaded);
        yield return ("up_info_speed", stats.UpRate);
        yield return ("up_rate_limit", stats.UploadLimit);
    }

    /// <summary>
    /// "connected" when a peer is connected in through the peer port now (it is reachable), else "firewalled" (not
    /// known to be reachable); "disconnected" is never said: the daemon always listens.
    /// </summary>
    public static string ConnectionStatus(TorrentService service)
    {
        foreach (TorrentView v in service.List())
        {
            if (v.Peers == 0) continue;
            try
            {
                if (service.GetPeers(v.InfoHash).Any(p => p.Incoming)) return "connected";
            }
            catch (ServiceException)
            {
            }
        }
        return "firewalled";
    }

    public Task<QbResult> SpeedLimitsMode(QbCall call)
        => Task.FromResult(QbResult.OfText(service.Settings.AltSpeedEnabled ? "1" : "0"));

    public async Task<QbResult> ToggleSpeedLimitsModeAsync(QbCall call)
    {
        await service.UpdateSettingsAsync(new JsonObject { ["alt_speed_enabled"] = !service.Settings.AltSpeedEnabled }).ConfigureAwait(false);
        return QbResult.Empty;
    }

    public async Task<QbResult> SetSpeedLimitsModeAsync(QbCall call)
    {
        string mode = call.Params.Required("mode");
        if (mode is not ("0" or "1")) throw QbException.BadParams("'mode' is 0 (normal limits) or 1 (alternative limits)");
        await service.UpdateSettingsAsync(new JsonObject { ["alt_speed_enabled"] = mode == "1" }).ConfigureAwait(false);
        return QbResult.Empty;
    }

    /// <summary>The global limit (the normal one, whichever is in force), as plain text.</summary>
    public Task<QbResult> Limit(bool download)
    {
        DaemonSettings s = service.Settings;
        return Task.FromResult(QbResult.OfText((download ? s.DownloadLimit : s.UploadLimit).ToString(CultureInfo.InvariantCulture)));
    }

    public async Task<QbResult> SetLimitAsync(QbCall call, bool download)
    {
        long limit = Math.Max(0, call.Params.Long("limit") ?? throw QbException.BadParams("Missing parameter: limit"));
        await service.UpdateSettingsAsync(new JsonObject { [download ? "download_limit" : "upload_limit"] = limit }).ConfigureAwait(false);
        return QbResult.Empty;
    }
}
