using Shoal.Metainfo;

namespace Shoal.Daemon.Service;

/// <summary>
/// Whether a torrent's data is gone (a drive not mounted, a folder moved or deleted behind the daemon's back) when it
/// is about to run with peers again. A torrent that had verified data and finds none of its files is held in error,
/// as qBittorrent's "missingFiles" and Transmission's "No data found": downloading it all again would be a silent,
/// possibly huge, surprise. A recheck (which accepts what is there) or a new location lets it go on.
/// </summary>
internal static class MissingData
{
    /// <summary>Why <paramref name="t"/> must not run: its data is gone; null when it may (nothing was verified, or some of it is there).</summary>
    public static string? Find(ServiceTorrent t)
    {
        if (t.CheckOnly || t.Metainfo is not { } torrent || t.DoneBytes <= 0 && !t.Complete) return null;
        string folder = t.Record.SavePath;
        byte[]? priorities = t.Record.FilePriorities;
        for (int i = 0; i < torrent.Files.Count; i++)
        {
            TorrentFile file = torrent.Files[i];
            if (file.IsPadding || file.Length == 0) continue;
            if (priorities is not null && i < priorities.Length && priorities[i] == (byte)FilePriority.Skip) continue;
            // A file renamed through the engine lives under its new path ('/'-separated, under the save path).
            string path = t.RenamedFiles is { } renamed && renamed.TryGetValue(i, out string? moved)
                ? Path.Combine([folder, .. moved.Split('/')])
                : Path.Combine([folder, .. file.PathSegments]);
            if (File.Exists(path)) return null;
        }
        string content = Path.Combine(folder, torrent.Name);
        return Directory.Exists(folder)
            ? $"the data is missing: none of its files is in {content} (recheck to download it again, or set its location)"
            : $"the data is missing: the folder {folder} does not exist (is its drive mounted? recheck to download it again, or set its location)";
    }
}
