using Shoal.Daemon.Service;
using Shoal.Metainfo;

namespace Shoal.Daemon.QBittorrent;

/// <summary>How the Web API names torrents: by info-hash (40 hex digits), lists of them separated by '|', or "all".</summary>
internal static class QbTorrents
{
    /// <summary>The torrent with this info-hash; null when there is none (prefixes and ids are not qBittorrent's).</summary>
    public static TorrentView? Find(TorrentService service, string hash)
    {
        if (!InfoHash.TryParse(hash.Trim(), out InfoHash parsed)) return null;
        try
        {
            return service.Get(parsed.ToHex());
        }
        catch (ServiceException ex) when (ex.Kind == ServiceErrorKind.NotFound)
        {
            return null;
        }
    }

    /// <summary>
    /// The info-hashes of the torrents named by <paramref name="hashes"/> ("all" for every one); unknown ones are
    /// left out, as qBittorrent does.
    /// </summary>
    public static IReadOnlyList<string> Select(TorrentService service, IReadOnlyList<string> hashes)
    {
        IReadOnlyList<TorrentView> all = service.List();
        if (hashes.Count == 1 && hashes[0].Equals("all", StringComparison.OrdinalIgnoreCase)) return [.. all.Select(v => v.InfoHash)];
        var known = all.Select(v => v.InfoHash).ToHashSet(StringComparer.Ordinal);
        var chosen = new List<string>(hashes.Count);
        foreach (string hash in hashes)
        {
            if (InfoHash.TryParse(hash, out InfoHash parsed) && known.Contains(parsed.ToHex()) && !chosen.Contains(parsed.ToHex())) chosen.Add(parsed.ToHex());
        }
        return chosen;
    }
}
