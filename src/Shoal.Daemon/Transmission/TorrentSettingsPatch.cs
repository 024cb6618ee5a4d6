using Shoal.Daemon.Service;

namespace Shoal.Daemon.Transmission;

/// <summary>torrent-set's limits, peer limit, seeding goals, sequential mode and trackers as a change of the torrent's options.</summary>
internal static class TorrentSettingsPatch
{
    /// <summary>Transmission's default per-torrent speed limit (kB/s), used when a limit is switched on without a value.</summary>
    public const long DefaultLimitKilobytes = 100;

    public static TorrentOptionsPatch Unchanged { get; } = new();

    public static TorrentOptionsPatch From(TorrentService service, string reference, TorrentView view, RpcArgs args)
    {
        IReadOnlyList<string>? trackers = Trackers(service, reference, args);
        return new TorrentOptionsPatch
        {
            DownloadLimit = Limit(args, "download_limit", "download_limited", view.DownloadLimit),
            UploadLimit = Limit(args, "upload_limit", "upload_limited", view.UploadLimit),
            MaxConnections = args.Int("peer_limit") is int peers ? Math.Max(0, peers) : null,
            Sequential = args.Bool("sequential_download"),
            RatioLimit = Goal(args.Int("seed_ratio_mode"), args.Double("seed_ratio_limit"), () => service.GetSettings(reference).RatioLimit, double.NaN),
            IdleLimitMinutes = Goal(args.Int("seed_idle_mode"), args.Int("seed_idle_limit"), () => service.GetSettings(reference).IdleLimitMinutes,
                TorrentOptionsPatch.FollowSession) is double idle ? (int)idle : null,
            Trackers = trackers,
        };
    }

    /// <summary>
    /// A speed limit in bytes per second from Transmission's kB/s value and its on/off switch: off is no limit; a
    /// value alone (or the switch on) is that limit; the switch on without a value keeps the torrent's limit, or
    /// Transmission's default 100 kB/s when it had none.
    /// </summary>
    private static long? Limit(RpcArgs args, string valueName, string switchName, long current)
    {
        long? kilobytes = args.Long(valueName);
        bool? on = args.Bool(switchName);
        if (on == false) return 0;
        if (kilobytes is { } k)
        {
            if (k < 0) throw RpcException.Params($"'{valueName}' must be 0 or more");
            return k * 1000;
        }
        if (on == true) return current > 0 ? current : DefaultLimitKilobytes * 1000;
        return null;
    }

    /// <summary>
    /// A seeding goal from Transmission's mode (0 follow the session, 1 the torrent's own value, 2 none) and value; a
    /// value without a mode sets it as the torrent's own.
    /// </summary>
    private static double? Goal(int? mode, double? value, Func<double?> currentOwn, double followSession)
    {
        switch (mode)
        {
            case null:
                return value is { } v ? (v >= 0 ? v : throw RpcException.Params("seeding limits are 0 or more")) : null;
            case 0:
                return followSession;
            case 1:
                if (value is { } own) return own >= 0 ? own : throw RpcException.Params("seeding limits are 0 or more");
                return currentOwn() is double kept && kept >= 0 ? kept : throw RpcException.Params("seed mode 1 (the torrent's own limit) needs the limit's value");
            case 2:
                return -1;
            default:
                throw RpcException.Params("seed modes are 0 (session), 1 (torrent) or 2 (unlimited)");
        }
    }

    /// <summary>
    /// The torrent's extra trackers after tracker_list (replaced whole), tracker_add, tracker_remove and
    /// tracker_replace; null when none of them is given. The torrent's own trackers stay: a list without them, or a
    /// removal of one, is refused.
    /// </summary>
    private static IReadOnlyList<string>? Trackers(TorrentService service, string reference, RpcArgs args)
    {
        bool any = args.Has("tracker_list") || args.Has("tracker_add") || args.Has("tracker_remove") || args.Has("tracker_replace");
        if (!any) return null;
        IReadOnlyList<TrackerView> shown = service.GetTrackers(reference);
        var extra = new List<string>(service.GetSettings(reference).Trackers);
        var own = shown.Select(t => t.Url).Where(u => !extra.Contains(u, StringComparer.Ordinal)).ToHashSet(StringComparer.Ordinal);
        if (args.String("tracker_list") is { } list)
        {
            string[] urls = list.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (own.Any(u => !urls.Contains(u, StringComparer.Ordinal)))
                throw new RpcException(RpcErrorCode.InvalidTrackerList, "the torrent's own trackers cannot be removed, only the ones added to it");
            extra = [.. urls.Where(u => !own.Contains(u)).Distinct(StringComparer.Ordinal)];
        }
        foreach (string url in args.StringList("tracker_add") ?? [])
        {
            if (!own.Contains(url) && !extra.Contains(url, StringComparer.Ordinal)) extra.Add(url);
        }
        if (args.IntList("tracker_remove") is { } removals)
        {
            foreach (int id in removals)
            {
                string url = TrackerAt(shown, id);
                if (own.Contains(url)) throw new RpcException(RpcErrorCode.SetAnnounceList, $"tracker {id} is the torrent's own and cannot be removed");
                extra.Remove(url);
            }
        }
        if (args.TryGet("tracker_replace", out System.Text.Json.JsonElement pairs))
        {
            if (pairs.ValueKind != System.Text.Json.JsonValueKind.Array || pairs.GetArrayLength() % 2 != 0)
                throw RpcException.Params("'tracker_replace' is a list of tracker id and URL pairs");
            for (int i = 0; i < pairs.GetArrayLength(); i += 2)
            {
                if (!pairs[i].TryGetInt32(out int id) || pairs[i + 1].ValueKind != System.Text.Json.JsonValueKind.String)
                    throw RpcException.Params("'tracker_replace' is a list of tracker id and URL pairs");
                string url = TrackerAt(shown, id);
                if (own.Contains(url)) throw new RpcException(RpcErrorCode.SetAnnounceList, $"tracker {id} is the torrent's own and cannot be replaced");
                int at = extra.IndexOf(url);
                if (at >= 0) extra[at] = pairs[i + 1].GetString()!;
            }
        }
        return extra;
    }

    private static string TrackerAt(IReadOnlyList<TrackerView> shown, int id)
        => id >= 0 && id < shown.Count ? shown[id].Url : throw RpcException.Params($"no tracker {id}");
}
