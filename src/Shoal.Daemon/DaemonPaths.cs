namespace Shoal.Daemon;

/// <summary>Where the daemon keeps what inside its data folder.</summary>
public static class DaemonPaths
{
    /// <summary>The database.</summary>
    public static string Database(string dataDirectory) => Path.Combine(dataDirectory, State.StateStore.FileName);

    /// <summary>The engine's fast-resume files.</summary>
    public static string Resume(string dataDirectory) => Path.Combine(dataDirectory, "resume");

    /// <summary>The DHT's node id and routing tables.</summary>
    public static string Dht(string dataDirectory) => Path.Combine(dataDirectory, "dht");

    /// <summary>The default download folder: ~/Downloads (XDG's user folder when set).</summary>
    public static string DefaultDownloads()
    {
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile, Environment.SpecialFolderOption.DoNotVerify);
        if (Environment.GetEnvironmentVariable("XDG_DOWNLOAD_DIR") is { Length: > 0 } xdg && Path.IsPathFullyQualified(xdg)) return xdg;
        return Path.Combine(string.IsNullOrEmpty(home) ? Path.GetTempPath() : home, "Downloads");
    }
}
