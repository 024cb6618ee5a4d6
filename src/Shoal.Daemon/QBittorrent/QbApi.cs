using Shoal.Daemon.Security;
using Shoal.Daemon.Service;

namespace Shoal.Daemon.QBittorrent;

/// <summary>
/// The qBittorrent Web API's actions over the daemon's service layer, by "scope/action". Each answers as
/// qBittorrent 5.1 (WebAPI 2.11.4) does, plus qBittorrent 5.2's API keys.
/// </summary>
internal sealed class QbApi : IDisposable
{
    /// <summary>One action: POST only or GET and POST, and what it does.</summary>
    public sealed record Action(bool Post, Func<QbCall, Task<QbResult>> Run);

    public QbApi(TorrentService service, DaemonSecurity security, string? apiKeyHash, string webBind)
    {
        Keys = new QbApiKeys(service, apiKeyHash);
        var auth = new QbAuthActions(security);
        var app = new QbAppActions(service, security, Keys, webBind);
        var reads = new QbTorrentReads(service);
        var writes = new QbTorrentWrites(service);
        var transfer = new QbTransferActions(service);
        Sync = new QbSync(service);
        Actions = new Dictionary<string, Action>(StringComparer.Ordinal)
        {
            ["auth/login"] = new(true, auth.LoginAsync),
            ["auth/logout"] = new(true, auth.Logout),
            ["app/version"] = new(false, _ => Task.FromResult(QbResult.OfText(QbAppActions.Version))),
            ["app/webapiVersion"] = new(false, _ => Task.FromResult(QbResult.OfText(QbAppActions.WebApiVersion))),
            ["app/buildInfo"] = new(false, app.BuildInfo),
            ["app/preferences"] = new(false, app.Preferences),
            ["app/setPreferences"] = new(true, app.SetPreferencesAsync),
            ["app/defaultSavePath"] = new(false, app.DefaultSavePath),
            ["app/shutdown"] = new(true, app.Shutdown),
            ["app/rotateAPIKey"] = new(true, app.RotateApiKeyAsync),
            ["app/deleteAPIKey"] = new(true, app.DeleteApiKeyAsync),
            ["torrents/info"] = new(false, reads.Info),
            ["torrents/count"] = new(false, reads.Count),
            ["torrents/properties"] = new(false, reads.Properties),
            ["torrents/files"] = new(false, reads.Files),
            ["torrents/trackers"] = new(false, reads.Trackers),
            ["torrents/webseeds"] = new(false, reads.WebSeeds),
            ["torrents/pieceStates"] = new(false, reads.PieceStates),
            ["torrents/categories"] = new(false, reads.Categories),
            ["torrents/tags"] = new(false, reads.Tags),
            ["torrents/downloadLimit"] = new(false, c => reads.Limits(c, download: true)),
            ["torrents/uploadLimit"] = new(false, c => reads.Limits(c, download: false)),
            ["torrents/add"] = new(true, writes.AddAsync),
            ["torrents/delete"] = new(true, writes.DeleteAsync),
            ["torrents/stop"] = new(true, c => writes.ActAsync(c, service.PauseAsync)),
            ["torrents/pause"] = new(true, c => writes.ActAsync(c, service.PauseAsync)),
            ["torrents/start"] = new(true, c => writes.ActAsync(c, service.ResumeAsync)),
            ["torrents/resume"] = new(true, c => writes.ActAsync(c, service.ResumeAsync)),
            ["torrents/recheck"] = new(true, c => writes.ActAsync(c, service.RecheckAsync)),
            ["torrents/reannounce"] = new(true, c => writes.ActAsync(c, service.ReannounceAsync)),
            ["torrents/setForceStart"] = new(true, writes.SetForceStartAsync),
            ["torrents/setCategory"] = new(true, writes.SetCategoryAsync),
            ["torrents/createCategory"] = new(true, c => writes.PutCategoryAsync(c, create: true)),
            ["torrents/editCategory"] = new(true, c => writes.PutCategoryAsync(c, create: false)),
            ["torrents/removeCategories"] = new(true, writes.RemoveCategoriesAsync),
            ["torrents/addTags"] = new(true, writes.AddTagsAsync),
            ["torrents/removeTags"] = new(true, writes.RemoveTagsAsync),
            ["torrents/setTags"] = new(true, writes.SetTagsAsync),
            ["torrents/createTags"] = new(true, writes.CreateTagsAsync),
            ["torrents/deleteTags"] = new(true, writes.DeleteTagsAsync),
            ["torrents/setShareLimits"] = new(true, writes.SetShareLimitsAsync),
            ["torrents/topPrio"] = new(true, c => writes.QueueAsync(c, QueueMove.Top)),
            ["torrents/bottomPrio"] = new(true, c => writes.QueueAsync(c, QueueMove.Bottom)),
            ["torrents/increasePrio"] = new(true, c => writes.QueueAsync(c, QueueMove.Up)),
            ["torrents/decreasePrio"] = new(true, c => writes.QueueAsync(c, QueueMove.Down)),
            ["torrents/filePrio"] = new(true, writes.FilePriorityAsync),
            ["torrents/setLocation"] = new(true, c => writes.SetLocationAsync(c, "hashes", "location")),
            ["torrents/setSavePath"] = new(true, c => writes.SetLocationAsync(c, "id", "path")),
            ["torrents/rename"] = new(true, writes.RenameAsync),
            ["torrents/renameFile"] = new(true, c => writes.RenamePathAsync(c, "file")),
            ["torrents/renameFolder"] = new(true, c => writes.RenamePathAsync(c, "folder")),
            ["torrents/setDownloadLimit"] = new(true, c => writes.SetLimitAsync(c, download: true)),
            ["torrents/setUploadLimit"] = new(true, c => writes.SetLimitAsync(c, download: false)),
            ["torrents/toggleSequentialDownload"] = new(true, writes.ToggleSequentialAsync),
            ["torrents/toggleFirstLastPiecePrio"] = new(true, writes.ToggleFirstLastPiecePriorityAsync),
            ["torrents/addTrackers"] = new(true, writes.AddTrackersAsync),
            ["torrents/removeTrackers"] = new(true, writes.RemoveTrackersAsync),
            ["transfer/info"] = new(false, transfer.Info),
            ["transfer/speedLimitsMode"] = new(false, transfer.SpeedLimitsMode),
            ["transfer/toggleSpeedLimitsMode"] = new(true, transfer.ToggleSpeedLimitsModeAsync),
            ["transfer/setSpeedLimitsMode"] = new(true, transfer.SetSpeedLimitsModeAsync),
            ["transfer/downloadLimit"] = new(false, c => transfer.Limit(download: true)),
            ["transfer/uploadLimit"] = new(false, c => transfer.Limit(download: false)),
            ["transfer/setDownloadLimit"] = new(true, c => transfer.SetLimitAsync(c, download: true)),
            ["transfer/setUploadLimit"] = new(true, c => transfer.SetLimitAsync(c, download: false)),
            ["sync/maindata"] = new(false, Sync.MainData),
            ["sync/torrentPeers"] = new(false, Sync.TorrentPeers),
        };
    }

    public QbApiKeys Keys { get; }

    public QbSync Sync { get; }

    public IReadOnlyDictionary<string, Action> Actions { get; }

    /// <summary>qBittorrent endpoints Shoal knows and does not offer (their 404 says so).</summary>
    public IReadOnlySet<string> Unsupported { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "app/getDirectoryContent", "app/networkInterfaceList", "app/networkInterfaceAddressList", "app/sendTestEmail", "app/cookies", "app/setCookies",
        "log/main", "log/peers", "torrents/pieceHashes", "torrents/export", "torrents/editTracker", "torrents/addPeers",
        "torrents/setAutoManagement", "torrents/setSuperSeeding", "torrents/addWebSeeds",
        "torrents/editWebSeed", "torrents/removeWebSeeds", "torrents/setDownloadPath", "torrents/SSLParameters", "torrents/setSSLParameters",
        "transfer/banPeers", "torrentcreator/addTask", "rss/items", "search/start", "search/plugins",
    };

    public void Dispose() => Sync.Dispose();
}
