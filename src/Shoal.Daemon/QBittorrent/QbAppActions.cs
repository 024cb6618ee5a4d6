using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Shoal.Daemon.Security;
using Shoal.Daemon.Service;

namespace Shoal.Daemon.QBittorrent;

/// <summary>The app/ scope: versions, build information, preferences, the default save path and the API key.</summary>
internal sealed class QbAppActions(TorrentService service, DaemonSecurity security, QbApiKeys keys, string webBind)
{
    /// <summary>The qBittorrent version Shoal answers like (clients choose their behaviour by it).</summary>
    public const string Version = "v5.1.4";

    /// <summary>The Web API version whose answers Shoal gives.</summary>
    public const string WebApiVersion = "2.11.4";

    public Task<QbResult> BuildInfo(QbCall call) => Task.FromResult(QbResult.OfJson(w =>
    {
        w.WriteStartObject();
        w.WriteString("qt", "");
        w.WriteString("libtorrent", "Shoal " + DaemonVersion.Text);
        w.WriteString("boost", "");
        w.WriteString("openssl", "");
        w.WriteString("zlib", "");
        w.WriteNumber("bitness", IntPtr.Size * 8);
        w.WriteString("platform", OperatingSystem.IsLinux() ? "linux" : OperatingSystem.IsWindows() ? "windows" : OperatingSystem.IsMacOS() ? "macos" : "unknown");
        w.WriteEndObject();
    }));

    public Task<QbResult> Preferences(QbCall call)
    {
        DaemonSettings settings = service.Settings;
        int listenPort = service.GetStats().ListenPort;
        int webPort = call.Context.Connection.LocalPort;
        return Task.FromResult(QbResult.OfJson(w => QbPreferences.Write(w, settings, security, listenPort, webPort, webBind)));
    }

    public async Task<QbResult> SetPreferencesAsync(QbCall call)
    {
        string json = call.Params.Required("json");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException ex)
        {
            throw QbException.BadParams("'json' is not JSON: " + ex.Message);
        }
        using (document)
        {
            System.Text.Json.Nodes.JsonObject patch = QbPreferences.Patch(document.RootElement, service.Settings);
            if (patch.Count > 0) await service.UpdateSettingsAsync(patch).ConfigureAwait(false);
        }
        return QbResult.Empty;
    }

    public Task<QbResult> DefaultSavePath(QbCall call) => Task.FromResult(QbResult.OfText(service.Settings.DefaultSavePath));

    /// <summary>The daemon is not stopped through the Web API (its service manager or SIGTERM does that).</summary>
    public Task<QbResult> Shutdown(QbCall call)
        => throw new QbException(StatusCodes.Status403Forbidden, "the daemon is not shut down through the API: stop it with Ctrl+C, SIGTERM or its service manager");

    public async Task<QbResult> RotateApiKeyAsync(QbCall call)
    {
        string key = await keys.RotateAsync().ConfigureAwait(false);
        return QbResult.OfJson(w =>
        {
            w.WriteStartObject();
            w.WriteString("apiKey", key);
            w.WriteEndObject();
        });
    }

    public async Task<QbResult> DeleteApiKeyAsync(QbCall call)
    {
        await keys.DeleteAsync().ConfigureAwait(false);
        return QbResult.Empty;
    }
}
