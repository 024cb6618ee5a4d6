namespace Shoal.Daemon.Service;

/// <summary>
/// Filters, sorts and pages torrent rows (the list endpoints of every API). Pure. State filters: any
/// <see cref="TorrentActivity"/> name, or a group: all, active (moving data), inactive, downloading (incl. metadata
/// and queued downloads), seeding (incl. queued seeds), completed, incomplete, paused, queued, checking, error.
/// </summary>
public sealed record TorrentFilter
{
    /// <summary>A state or group name; null for all.</summary>
    public string? State { get; init; }

    /// <summary>A category; empty string for "no category"; null for any.</summary>
    public string? Category { get; init; }

    /// <summary>A tag; empty string for "no tag"; null for any.</summary>
    public string? Tag { get; init; }

    /// <summary>Words that must all appear in the name (case-insensitive).</summary>
    public string? Search { get; init; }

    /// <summary>A column (snake_case as in the rows): name, id, state, progress, total_size, down_rate, up_rate, ratio, eta_seconds, added_at, queue_position, peers, seeds, category, uploaded, downloaded.</summary>
    public string? Sort { get; init; }

    /// <summary>Sort descending.</summary>
    public bool Reverse { get; init; }

    /// <summary>Rows skipped.</summary>
    public int Offset { get; init; }

    /// <summary>Rows returned at most (0: all).</summary>
    public int Limit { get; init; }

    /// <summary>The rows of <paramref name="all"/> this filter selects, sorted and paged.</summary>
    public IReadOnlyList<TorrentView> Apply(IReadOnlyList<TorrentView> all)
    {
        ArgumentNullException.ThrowIfNull(all);
        if (Offset < 0 || Limit < 0) throw ServiceException.Bad("offset and limit are 0 or more");
        Func<TorrentView, bool> state = StateTest(State);
        string[] words = string.IsNullOrWhiteSpace(Search) ? [] : Search.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        IEnumerable<TorrentView> rows = all.Where(v => state(v)
            && (Category is null || (Category.Length == 0 ? v.Category is null : v.Category == Category))
            && (Tag is null || (Tag.Length == 0 ? v.Tags.Count == 0 : v.Tags.Contains(Tag)))
            && words.All(w => v.Name.Contains(w, StringComparison.OrdinalIgnoreCase)));
        if (Sort is { Length: > 0 } || Reverse)
        {
            Func<TorrentView, IComparable?> key = SortKey(Sort ?? "id");
            rows = Reverse ? rows.OrderByDescending(key).ThenByDescending(v => v.Id) : rows.OrderBy(key).ThenBy(v => v.Id);
        }
        if (Offset > 0) rows = rows.Skip(Offset);
        if (Limit > 0) rows = rows.Take(Limit);
        return [.. rows];
    }

    private static Func<TorrentView, bool> StateTest(string? state) => state?.ToLowerInvariant() switch
    {
        null or "" or "all" => _ => true,
        "active" => v => v.DownRate > 0 || v.UpRate > 0,
        "inactive" => v => v.DownRate == 0 && v.UpRate == 0,
        "downloading" => v => v.State is TorrentActivity.Downloading or TorrentActivity.FetchingMetadata or TorrentActivity.QueuedDownload,
        "seeding" => v => v.State is TorrentActivity.Seeding or TorrentActivity.QueuedSeed,
        "completed" => v => v.Progress >= 1,
        "incomplete" => v => v.Progress < 1,
        "paused" => v => v.State == TorrentActivity.Paused,
        "queued" => v => v.State is TorrentActivity.QueuedDownload or TorrentActivity.QueuedSeed,
        "checking" => v => v.State == TorrentActivity.Checking,
        "error" or "errored" => v => v.State == TorrentActivity.Error,
        "fetching_metadata" => v => v.State == TorrentActivity.FetchingMetadata,
        "queued_download" => v => v.State == TorrentActivity.QueuedDownload,
        "queued_seed" => v => v.State == TorrentActivity.QueuedSeed,
        _ => throw ServiceException.Bad($"unknown state filter '{state}'"),
    };

    private static Func<TorrentView, IComparable?> SortKey(string column) => column.ToLowerInvariant() switch
    {
        "id" => v => v.Id,
        "name" => v => v.Name.ToLowerInvariant(),
        "state" => v => v.State,
        "progress" => v => v.Progress,
        "total_size" or "size" => v => v.TotalSize,
        "wanted_size" => v => v.WantedSize,
        "down_rate" => v => v.DownRate,
        "up_rate" => v => v.UpRate,
        "ratio" => v => v.Ratio,
        "eta_seconds" or "eta" => v => v.EtaSeconds ?? long.MaxValue,
        "added_at" => v => v.AddedAt,
        "completed_at" => v => v.CompletedAt ?? DateTimeOffset.MaxValue,
        "queue_position" => v => v.QueuePosition,
        "peers" => v => v.Peers,
        "seeds" => v => v.Seeds,
        "category" => v => v.Category ?? "",
        "uploaded" => v => v.Uploaded,
        "downloaded" => v => v.Downloaded,
        "save_path" => v => v.SavePath,
        _ => throw ServiceException.Bad($"cannot sort by '{column}'"),
    };
}
