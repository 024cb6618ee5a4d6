using System.Net;
using Microsoft.Extensions.Logging;

namespace Shoal.Daemon;

/// <summary>How <c>shoal daemon</c> was started: folders, sockets, and the settings the command line overrides.</summary>
public sealed record DaemonOptions
{
    /// <summary>The daemon's own folder: the database (shoal.db), resume data, DHT state.</summary>
    public required string DataDirectory { get; init; }

    /// <summary>Peer port (TCP and the DHT's UDP); 0 picks a free one.</summary>
    public int PeerPort { get; init; } = 6881;

    /// <summary>Address the peer listener binds to.</summary>
    public IPAddress PeerBind { get; init; } = IPAddress.Any;

    /// <summary>Port of the HTTP interface; 0 picks a free one.</summary>
    public int WebPort { get; init; } = 9091;

    /// <summary>Address of the HTTP interface. Anything but loopback needs a password.</summary>
    public IPAddress WebBind { get; init; } = IPAddress.Loopback;

    /// <summary>A password to set (hashed at once; only the hash is stored); null keeps the stored one.</summary>
    public string? Password { get; init; }

    /// <summary>Folder watched for .torrent files; null: none.</summary>
    public string? WatchDirectory { get; init; }

    /// <summary>
    /// Folders the API may use for downloads (save paths, categories, the default and incomplete folders).
    /// Empty: the default download folder only.
    /// </summary>
    public IReadOnlyList<string> DownloadRoots { get; init; } = [];

    /// <summary>The default download folder when none is stored yet, or to override the stored one.</summary>
    public string? DefaultSavePath { get; init; }

    /// <summary>Settings from the command line (snake_case key to JSON value) that win over the stored ones.</summary>
    public IReadOnlyDictionary<string, string> SettingOverrides { get; init; } = new Dictionary<string, string>();

    /// <summary>DHT bootstrap nodes (HOST:PORT); empty: the public routers.</summary>
    public IReadOnlyList<string> DhtBootstrap { get; init; } = [];

    /// <summary>The clock of the daemon and its session.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Least severe log level written to standard error.</summary>
    public LogLevel MinimumLogLevel { get; init; } = LogLevel.Information;

    /// <summary>Where log lines go; null: standard error.</summary>
    public ILoggerProvider? LoggerProvider { get; init; }
}
