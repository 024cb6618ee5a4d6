using System.Globalization;
using System.Text.Json;
using Shoal.Daemon.Service;
using Shoal.Metainfo;

namespace Shoal.Daemon.Transmission;

/// <summary>
/// The <c>ids</c> argument (rpc-spec.md 3.1): absent for every torrent, a torrent id, a list of ids and info-hashes,
/// or "recently-active". Ids and hashes that name no torrent are left out, as Transmission does.
/// </summary>
internal static class TorrentIds
{
    /// <summary>The torrents named, in the order named (every torrent by id when <c>ids</c> is absent).</summary>
    public static IReadOnlyList<TorrentView> Select(TorrentService service, RpcArgs args, RecentActivity recent, out bool recentlyActive)
    {
        recentlyActive = false;
        IReadOnlyList<TorrentView> all = service.List();
        if (!args.TryGet("ids", out JsonElement ids) || ids.ValueKind == JsonValueKind.Null) return all;
        switch (ids.ValueKind)
        {
            case JsonValueKind.Number:
                return ids.TryGetInt64(out long one) ? [.. all.Where(v => v.Id == one)] : throw RpcException.Params("'ids' must be whole numbers");
            case JsonValueKind.String when RpcNames.ToSnake(ids.GetString()!) == "recently_active":
                recentlyActive = true;
                IReadOnlySet<long> changed = recent.ChangedIds(out bool everything);
                return everything ? all : [.. all.Where(v => changed.Contains(v.Id))];
            case JsonValueKind.String:
                return Named(all, [ids]);
            case JsonValueKind.Array:
                // An empty list is shorthand for every torrent (rpc-spec.md 3.2).
                return ids.GetArrayLength() == 0 ? all : Named(all, [.. ids.EnumerateArray()]);
            default:
                throw RpcException.Params("'ids' must be a number, a list of numbers and hashes, or \"recently-active\"");
        }
    }

    /// <summary>The info-hashes (the service's references) of <paramref name="views"/>.</summary>
    public static IReadOnlyList<string> References(IReadOnlyList<TorrentView> views) => [.. views.Select(v => v.InfoHash)];

    private static List<TorrentView> Named(IReadOnlyList<TorrentView> all, IReadOnlyList<JsonElement> names)
    {
        Dictionary<long, TorrentView> byId = all.ToDictionary(v => v.Id);
        Dictionary<string, TorrentView> byHash = all.ToDictionary(v => v.InfoHash, StringComparer.Ordinal);
        var seen = new HashSet<long>();
        var chosen = new List<TorrentView>(names.Count);
        foreach (JsonElement name in names)
        {
            TorrentView? view = null;
            if (name.ValueKind == JsonValueKind.Number)
            {
                if (!name.TryGetInt64(out long id)) throw RpcException.Params("'ids' must hold whole numbers and hashes");
                byId.TryGetValue(id, out view);
            }
            else if (name.ValueKind == JsonValueKind.String)
            {
                string text = name.GetString()!;
                if (InfoHash.TryParse(text, out InfoHash hash)) byHash.TryGetValue(hash.ToHex(), out view);
                else if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long id)) byId.TryGetValue(id, out view);
            }
            else
            {
                throw RpcException.Params("'ids' must hold whole numbers and hashes");
            }
            if (view is not null && seen.Add(view.Id)) chosen.Add(view);
        }
        return chosen;
    }
}
