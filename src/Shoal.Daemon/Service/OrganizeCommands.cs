using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Shoal.Daemon.State;

namespace Shoal.Daemon.Service;

/// <summary>Categories, tags, queue order and settings, changed on the service loop and written before they are answered.</summary>
internal sealed class OrganizeCommands(ServiceContext context, TorrentCommands torrents)
{
    public void MoveInQueue(IReadOnlyList<ServiceTorrent> moving, QueueMove move)
    {
        List<ServiceTorrent> order = [.. context.Torrents.InQueueOrder()];
        var set = new HashSet<long>(moving.Select(t => t.Id));
        switch (move)
        {
            case QueueMove.Top:
                order = [.. order.Where(t => set.Contains(t.Id)), .. order.Where(t => !set.Contains(t.Id))];
                break;
            case QueueMove.Bottom:
                order = [.. order.Where(t => !set.Contains(t.Id)), .. order.Where(t => set.Contains(t.Id))];
                break;
            case QueueMove.Up:
                for (int i = 1; i < order.Count; i++)
                {
                    if (set.Contains(order[i].Id) && !set.Contains(order[i - 1].Id)) (order[i - 1], order[i]) = (order[i], order[i - 1]);
                }
                break;
            case QueueMove.Down:
                for (int i = order.Count - 2; i >= 0; i--)
                {
                    if (set.Contains(order[i].Id) && !set.Contains(order[i + 1].Id)) (order[i + 1], order[i]) = (order[i], order[i + 1]);
                }
                break;
            default:
                throw ServiceException.Bad($"unknown queue move {move}");
        }
        torrents.WritePositions(order);
        torrents.Settle();
    }

    public void MoveToQueuePosition(IReadOnlyList<ServiceTorrent> moving, int position)
    {
        var set = new HashSet<long>(moving.Select(t => t.Id));
        List<ServiceTorrent> order = [.. context.Torrents.InQueueOrder().Where(t => !set.Contains(t.Id))];
        order.InsertRange(Math.Clamp(position, 0, order.Count), moving.OrderBy(t => t.Record.QueuePosition));
        torrents.WritePositions(order);
        torrents.Settle();
    }

    public void Rename(ServiceTorrent t, string name)
    {
        string clean = name?.Trim() ?? "";
        if (clean.Length == 0 || clean.Length > 1000 || clean.Any(char.IsControl))
            throw ServiceException.Bad("a torrent's name is 1 to 1000 characters, without control characters");
        if (clean == t.Record.Name) return;
        Rewrite([t], x => x.Record with { Name = clean });
    }

    public void SetCategory(IReadOnlyList<ServiceTorrent> list, string? category)
    {
        string? name = TorrentCommands.Clean(category);
        if (name is not null && !context.Categories.ContainsKey(name)) throw ServiceException.NotFound($"no category '{name}': create it first");
        Rewrite(list, t => t.Record.Category == name ? null : t.Record with { Category = name });
    }

    public void AddTags(IReadOnlyList<ServiceTorrent> list, IReadOnlyList<string> tags)
    {
        IReadOnlyList<string> clean = TorrentCommands.CleanTags(tags);
        if (clean.Count == 0) throw ServiceException.Bad("no tag named");
        Rewrite(list, t =>
        {
            IReadOnlyList<string> merged = TorrentCommands.CleanTags(t.Record.Tags.Concat(clean));
            return merged.SequenceEqual(t.Record.Tags) ? null : t.Record with { Tags = merged };
        }, w => { foreach (string tag in clean) w.PutTag(tag); });
        torrents.MergeTags(clean);
    }

    public void RemoveTags(IReadOnlyList<ServiceTorrent> list, IReadOnlyList<string> tags)
    {
        var drop = new HashSet<string>(TorrentCommands.CleanTags(tags), StringComparer.Ordinal);
        Rewrite(list, t => t.Record.Tags.Any(drop.Contains) ? t.Record with { Tags = [.. t.Record.Tags.Where(tag => !drop.Contains(tag))] } : null);
    }

    /// <summary>Rewrites the records <paramref name="change"/> returns (null: unchanged) in one transaction.</summary>
    private void Rewrite(IReadOnlyList<ServiceTorrent> list, Func<ServiceTorrent, TorrentRecord?> change, Action<StoreWriter>? also = null)
    {
        var changed = new List<(ServiceTorrent, TorrentRecord)>();
        foreach (ServiceTorrent t in list)
        {
            if (change(t) is { } record) changed.Add((t, record));
        }
        if (changed.Count == 0 && also is null) return;
        context.Store.Write(w =>
        {
            also?.Invoke(w);
            foreach ((_, TorrentRecord record) in changed) w.UpdateTorrent(record);
        });
        foreach ((ServiceTorrent t, TorrentRecord record) in changed)
        {
            t.Record = record;
            t.ViewDirty = true;
        }
        torrents.Settle();
    }

    public CategoryView PutCategory(string name, string? savePath, bool mustExist)
    {
        string clean = TorrentCommands.Clean(name) ?? throw ServiceException.Bad("a category needs a name");
        bool exists = context.Categories.ContainsKey(clean);
        if (mustExist && !exists) throw ServiceException.NotFound($"no category '{clean}'");
        string path = string.IsNullOrWhiteSpace(savePath) ? ""
            : context.Folders.Confine(savePath, $"the folder of category '{clean}'", context.Settings.DefaultSavePath);
        context.Store.Write(w => w.PutCategory(clean, path));
        context.Categories = new Dictionary<string, string>(context.Categories) { [clean] = path };
        context.Events.Publish(DaemonEventKind.CategoriesChanged, message: clean);
        return new CategoryView(clean, path);
    }

    public void DeleteCategories(IReadOnlyList<string> names)
    {
        var drop = names.Select(TorrentCommands.Clean).OfType<string>().Where(context.Categories.ContainsKey).ToHashSet(StringComparer.Ordinal);
        if (drop.Count == 0) return;
        context.Store.Write(w => { foreach (string name in drop) w.DeleteCategory(name); });
        context.Categories = context.Categories.Where(p => !drop.Contains(p.Key)).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        // The database cleared the column (ON DELETE SET NULL); the torrents in memory follow.
        foreach (ServiceTorrent t in context.Torrents.All)
        {
            if (t.Record.Category is { } c && drop.Contains(c))
            {
                t.Record = t.Record with { Category = null };
                t.ViewDirty = true;
            }
        }
        context.Events.Publish(DaemonEventKind.CategoriesChanged, message: string.Join(", ", drop));
        torrents.Settle();
    }

    public void CreateTags(IReadOnlyList<string> tags)
    {
        IReadOnlyList<string> clean = TorrentCommands.CleanTags(tags);
        if (clean.Count == 0) throw ServiceException.Bad("no tag named");
        context.Store.Write(w => { foreach (string tag in clean) w.PutTag(tag); });
        torrents.MergeTags(clean);
    }

    public void DeleteTags(IReadOnlyList<string> tags)
    {
        var drop = TorrentCommands.CleanTags(tags).ToHashSet(StringComparer.Ordinal);
        if (drop.Count == 0) return;
        context.Store.Write(w => { foreach (string tag in drop) w.DeleteTag(tag); });
        context.Tags = [.. context.Tags.Where(t => !drop.Contains(t))];
        foreach (ServiceTorrent t in context.Torrents.All)
        {
            if (t.Record.Tags.Any(drop.Contains))
            {
                t.Record = t.Record with { Tags = [.. t.Record.Tags.Where(tag => !drop.Contains(tag))] };
                t.ViewDirty = true;
            }
        }
        context.Events.Publish(DaemonEventKind.TagsChanged);
        torrents.Settle();
    }

    public DaemonSettings UpdateSettings(JsonObject patch)
    {
        DaemonSettings before = context.Settings;
        DaemonSettings after = SettingsBook.Apply(before, patch);
        string defaultPath = context.Folders.Confine(after.DefaultSavePath, "default_save_path");
        string incomplete = after.IncompletePath.Length == 0 ? "" : context.Folders.Confine(after.IncompletePath, "incomplete_path", defaultPath);
        after = after with { DefaultSavePath = defaultPath, IncompletePath = incomplete };
        IReadOnlyDictionary<string, string> changes = SettingsBook.Changes(before, after);
        if (changes.Count == 0) return before;
        context.Store.Write(w => { foreach ((string key, string json) in changes) w.PutSetting(key, json); });
        context.Settings = after;
        context.Engine.ApplyRates(after, context.Time.GetLocalNow());
        _ = context.Engine.ApplyNetwork(before, after, message => context.Log.LogWarning("{Message}", message));
        context.Log.LogInformation("settings changed: {Keys}", string.Join(", ", changes.Keys));
        context.Events.Publish(DaemonEventKind.SettingsChanged, message: string.Join(",", changes.Keys));
        torrents.Settle();
        return after;
    }
}
