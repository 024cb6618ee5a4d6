using Shoal.Daemon.Service;

namespace Shoal.Daemon.Transmission;

/// <summary>
/// Transmission's file selection (files_wanted, files_unwanted) and priorities (priority_high, _low, _normal) as
/// the daemon's one priority per file, where "skip" is not wanted. An empty list means every file. When a file is
/// both unwanted and given a priority in one call, unwanted wins.
/// </summary>
internal static class FilePriorities
{
    private static readonly string[] Lists = ["files_wanted", "files_unwanted", "priority_high", "priority_low", "priority_normal"];

    /// <summary>Priorities by file index for torrent-add; null when the call names none.</summary>
    public static IReadOnlyList<FilePriority>? ForAdd(RpcArgs args, int? fileCount)
    {
        if (!Lists.Any(args.Has)) return null;
        int count = fileCount ?? Lists.SelectMany(l => args.IntList(l) ?? []).DefaultIfEmpty(-1).Max() + 1;
        if (count <= 0) return null;
        var priorities = new FilePriority[count];
        Array.Fill(priorities, FilePriority.Normal);
        Apply(args, priorities);
        return priorities;
    }

    /// <summary>torrent-set's lists applied to the torrent's current priorities.</summary>
    public static async Task ApplyAsync(TorrentService service, string reference, RpcArgs args)
    {
        if (!Lists.Any(args.Has)) return;
        IReadOnlyList<FileView> files = service.GetFiles(reference);
        if (files.Count == 0) throw RpcException.Params("the torrent's file list is not known yet (its metadata is still being fetched)");
        FilePriority[] wanted = [.. files.Select(f => f.Priority)];
        Apply(args, wanted);
        foreach (IGrouping<FilePriority, int> group in Enumerable.Range(0, files.Count).Where(i => wanted[i] != files[i].Priority).GroupBy(i => wanted[i]))
        {
            await service.SetFilePrioritiesAsync(reference, [.. group], group.Key).ConfigureAwait(false);
        }
    }

    private static void Apply(RpcArgs args, FilePriority[] priorities)
    {
        foreach (int i in Indices(args, "files_wanted", priorities.Length))
        {
            if (priorities[i] == FilePriority.Skip) priorities[i] = FilePriority.Normal;
        }
        foreach ((string list, FilePriority priority) in new[] { ("priority_high", FilePriority.High), ("priority_low", FilePriority.Low), ("priority_normal", FilePriority.Normal) })
        {
            foreach (int i in Indices(args, list, priorities.Length))
            {
                if (priorities[i] != FilePriority.Skip) priorities[i] = priority;
            }
        }
        foreach (int i in Indices(args, "files_unwanted", priorities.Length)) priorities[i] = FilePriority.Skip;
    }

    private static IEnumerable<int> Indices(RpcArgs args, string name, int count)
    {
        if (args.IntList(name) is not { } list) return [];
        if (list.Count == 0) return Enumerable.Range(0, count);
        foreach (int i in list)
        {
            if (i < 0 || i >= count) throw new RpcException(RpcErrorCode.FileIndexOutOfRange, $"'{name}' names file {i}; the torrent has {count} files (numbered from 0)");
        }
        return list;
    }
}
