namespace Shoal.Daemon.Service;

/// <summary>The daemon's totals.</summary>
/// <param name="DownRate">Payload bytes per second received, all torrents.</param>
/// <param name="UpRate">Payload bytes per second sent, all torrents.</param>
/// <param name="Downloaded">Payload bytes received, all torrents over their life in the daemon.</param>
/// <param name="Uploaded">Payload bytes sent, all torrents over their life in the daemon.</param>
/// <param name="Torrents">Torrents in the daemon.</param>
/// <param name="Downloading">Of those, downloading or fetching metadata.</param>
/// <param name="Seeding">Of those, seeding.</param>
/// <param name="Paused">Of those, paused.</param>
/// <param name="Queued">Of those, waiting in the queue.</param>
/// <param name="Checking">Of those, checking.</param>
/// <param name="Errored">Of those, stopped by an error.</param>
/// <param name="Peers">Connected peers, all torrents.</param>
/// <param name="DhtNodes">Nodes in the DHT routing tables; 0 when the DHT is off.</param>
/// <param name="ListenPort">The peer port.</param>
/// <param name="FreeSpace">Free bytes in the default download folder; -1 when unknown.</param>
/// <param name="AltSpeedActive">The alternative speed limits are in force.</param>
/// <param name="DownloadLimit">The download cap in force (bytes/s, 0 none).</param>
/// <param name="UploadLimit">The upload cap in force (bytes/s, 0 none).</param>
/// <param name="UptimeSeconds">Seconds since the daemon started.</param>
public sealed record SessionStatsView(
    long DownRate,
    long UpRate,
    long Downloaded,
    long Uploaded,
    int Torrents,
    int Downloading,
    int Seeding,
    int Paused,
    int Queued,
    int Checking,
    int Errored,
    int Peers,
    int DhtNodes,
    int ListenPort,
    long FreeSpace,
    bool AltSpeedActive,
    long DownloadLimit,
    long UploadLimit,
    long UptimeSeconds);
