using Microsoft.Extensions.Logging;
using Shoal.Daemon.State;
using Shoal.Metainfo;

namespace Shoal.Daemon.Service;

/// <summary>
/// The changes to torrents, run on the service loop: each is written to the database (one transaction) before the
/// caller hears it is done, then the queue is planned again, which starts and stops what it must.
/// </summary>
internal sealed class TorrentCommands(ServiceContext context, StatusPass pass)
{
    /// <summary>Most torrents in one daemon; an add beyond it is refused.</summary>
    public const int MaxTorrents = 100_000;

    public TorrentView Add(AddTorrentRequest request, TorrentSource source)
    {
        AddOutcome outcome = AddMany([(request, source)])[0];
        return outcome.Added ?? throw outcome.Error!;
    }

    /// <summary>
    /// Adds torrents in one transaction (one durable commit for the lot, all in the database before this returns), then
    /// plans the queue once. Each gets its outcome: its row, or why it was refused (refusals are decided before anything
    /// is written; a failed write throws and adds none).
    /// </summary>
    public AddOutcome[] AddMany(IReadOnlyList<(AddTorrentRequest Request, TorrentSource Source)> items)
    {
        var outcomes = new AddOutcome[items.Count];
        var prepared = new List<(int Index, TorrentRecord Record, Torrent? Torrent)>(items.Count);
        var inBatch = new HashSet<InfoHash>();
        for (int i = 0; i < items.Count; i++)
        {
            try
            {
                (AddTorrentRequest request, TorrentSource source) = items[i];
                prepared.Add((i, Prepare(request, source, context.Torrents.Count + prepared.Count, inBatch), source.Torrent));
            }
            catch (ServiceException ex)
            {
                outcomes[i] = new AddOutcome(null, ex);
            }
        }
        if (prepared.Count == 0) return outcomes;
        var newCategories = new List<string>();
        foreach ((_, TorrentRecord record, _) in prepared)
        {
            if (record.Category is { } c && !context.Categories.ContainsKey(c) && !newCategories.Contains(c)) newCategories.Add(c);
        }
        var ids = new long[prepared.Count];
        context.Store.Write(w =>
        {
            foreach (string category in newCategories) w.PutCategory(category, "");
            for (int j = 0; j < prepared.Count; j++) ids[j] = w.InsertTorrent(prepared[j].Record);
        });
        if (newCategories.Count > 0)
        {
            var categories = new Dictionary<string, string>(context.Categories);
            foreach (string category in newCategories) categories[category] = "";
            context.Categories = categories;
            foreach (string category in newCategories) context.Events.Publish(DaemonEventKind.CategoriesChanged, message: category);
        }
        var added = new ServiceTorrent[prepared.Count];
        for (int j = 0; j < prepared.Count; j++)
        {
            (_, TorrentRecord record, Torrent? torrent) = prepared[j];
            record = record with { Id = ids[j] };
            MergeTags(record.Tags);
            var t = new ServiceTorrent(record, TorrentTotals.Zero, torrent, context.Time)
            {
                Activity = record.RunMode == RunMode.Paused ? TorrentActivity.Paused : TorrentActivity.QueuedDownload,
                Reason = record.RunMode == RunMode.Paused ? "added paused" : "added",
                // Data already on disk is checked whatever the queue says, then the torrent is queued as a seed or a
                // download by what the check found: adding 1,000 complete torrents must not wait for download slots.
                CheckOnly = torrent is not null && record.RunMode != RunMode.Paused && HasDataOnDisk(torrent, record.SavePath),
            };
            t.View = ViewFactory.Torrent(t);
            context.Torrents.Add(t);
            added[j] = t;
            context.Log.LogInformation("added {Name} ({Hash}) as {Id} in {Path}", record.Name, record.InfoHash.ToHex(), record.Id, record.SavePath);
            // Added first, then the queue's decision about it as a state change.
            context.Events.Publish(DaemonEventKind.Added, record.Id, record.InfoHash.ToHex(), record.Name, t.Activity, torrents: [t.View]);
        }
        Settle();
        for (int j = 0; j < prepared.Count; j++) outcomes[prepared[j].Index] = new AddOutcome(added[j].View, null);
        return outcomes;
    }

    /// <summary>The record of a torrent to add at <paramref name="queuePosition"/>; throws <see cref="ServiceException"/> when it is refused.</summary>
    private TorrentRecord Prepare(AddTorrentRequest request, TorrentSource source, int queuePosition, HashSet<InfoHash> inBatch)
    {
        if (context.Torrents.Find(source.InfoHash) is { } existing)
            throw new ServiceException(ServiceErrorKind.Conflict, $"the torrent is already in the daemon (id {existing.Id}, {existing.Record.Name})") { Torrent = existing.View };
        if (!inBatch.Add(source.InfoHash)) throw new ServiceException(ServiceErrorKind.Conflict, "the torrent is given twice");
        if (queuePosition >= MaxTorrents) throw new ServiceException(ServiceErrorKind.Conflict, $"the daemon holds {MaxTorrents} torrents, its limit");
        DaemonSettings settings = context.Settings;
        string? category = Clean(request.Category);
        IReadOnlyList<string> tags = CleanTags(request.Tags);
        string savePath = context.Folders.Confine(
            request.SavePath is { Length: > 0 } asked ? asked
                : category is not null && context.Categories.TryGetValue(category, out string? categoryPath) && categoryPath.Length > 0 ? categoryPath
                : settings.DefaultSavePath,
            "the download folder", settings.DefaultSavePath);
        foreach (string url in request.Trackers) CheckTrackerUrl(url);
        Torrent? torrent = source.Torrent;
        byte[]? priorities = Priorities(request.FilePriorities, torrent?.Files.Count);
        return new TorrentRecord
        {
            InfoHash = source.InfoHash,
            Name = torrent?.Name ?? source.Magnet!.DisplayName ?? source.InfoHash.ToHex(),
            Metainfo = torrent?.ToBytes(),
            Magnet = source.Magnet?.ToString(),
            SavePath = savePath,
            RunMode = request.Paused ? RunMode.Paused : request.ForceStart ? RunMode.Forced : RunMode.Started,
            QueuePosition = queuePosition,
            Category = category,
            Tags = tags,
            AddedAt = context.Now,
            Settings = new TorrentSettings
            {
                DownloadLimit = NonNegative(request.DownloadLimit, "download limit"),
                UploadLimit = NonNegative(request.UploadLimit, "upload limit"),
                Sequential = request.Sequential,
                FirstLastPiecePriority = request.FirstLastPiecePriority,
                RatioLimit = request.RatioLimit,
                SeedingTimeLimitMinutes = request.SeedingTimeLimitMinutes,
                IdleLimitMinutes = request.IdleLimitMinutes,
                Trackers = [.. request.Trackers.Distinct(StringComparer.Ordinal)],
            },
            FilePriorities = priorities,
        };
    }

    public void Pause(IReadOnlyList<ServiceTorrent> torrents) => SetRunMode(torrents, RunMode.Paused);

    public void Resume(IReadOnlyList<ServiceTorrent> torrents, bool force)
    {
        foreach (ServiceTorrent t in torrents)
        {
            t.Error = null;
            t.MissingFiles = false; // looked for again as it starts
            t.PauseReason = null;
        }
        SetRunMode(torrents, force ? RunMode.Forced : RunMode.Started);
    }

    private void SetRunMode(IReadOnlyList<ServiceTorrent> torrents, RunMode mode)
    {
        var changed = torrents.Where(t => t.Record.RunMode != mode).Select(t => (t, t.Record with { RunMode = mode })).ToList();
        if (changed.Count > 0)
        {
            context.Store.Write(w =>
            {
                foreach ((_, TorrentRecord record) in changed) w.UpdateTorrent(record);
            });
            foreach ((ServiceTorrent t, TorrentRecord record) in changed)
            {
                t.Record = record;
                if (mode == RunMode.Paused) t.PauseReason = null;
                t.ViewDirty = true;
            }
        }
        Settle();
    }

    public void Recheck(IReadOnlyList<ServiceTorrent> torrents)
    {
        foreach (ServiceTorrent t in torrents)
        {
            t.Error = null;
            t.MissingFiles = false; // a recheck takes whatever is there
            t.Complete = false;
            t.CompletedAt = null;
            t.DoneBytes = 0;
            t.TotalsDirty = true;
            t.ViewDirty = true;
            if (t.Engine is EngineState.Stopped)
            {
                context.Engine.ForgetResume(t.Record.InfoHash);
            }
            else
            {
                t.RecheckPending = true;
                t.RestartPending = true;
            }
            if (t.Record.RunMode == RunMode.Paused || !t.Wanted) t.CheckOnly = t.Metainfo is not null;
        }
        Settle();
    }

    /// <summary>Forgets the torrents (one transaction); the engine stops them in the background. Returns their stops.</summary>
    public IReadOnlyList<(ServiceTorrent Torrent, Task Stopped)> Remove(IReadOnlyList<ServiceTorrent> torrents, string? reason = null)
    {
        context.Store.Write(w =>
        {
            foreach (ServiceTorrent t in torrents) w.DeleteTorrent(t.Id);
        });
        var stops = new List<(ServiceTorrent, Task)>(torrents.Count);
        foreach (ServiceTorrent t in torrents)
        {
            t.Removed = true;
            t.Wanted = false;
            context.Torrents.Remove(t);
            pass.Engine.Reconcile(t);
            context.Log.LogInformation("removed {Name} ({Hash}){Reason}", t.Record.Name, t.Record.InfoHash.ToHex(), reason is null ? "" : ": " + reason);
            context.Events.Publish(DaemonEventKind.Removed, t.Id, t.Record.InfoHash.ToHex(), t.Record.Name, message: reason);
        }
        CompactQueue();
        Settle();
        foreach (ServiceTorrent t in torrents) stops.Add((t, t.EngineWork));
        return stops;
    }

    /// <summary>Takes the torrents whose folder changes out of the engine for the move; returns them.</summary>
    public IReadOnlyList<ServiceTorrent> BeginRelocation(IReadOnlyList<ServiceTorrent> torrents, string target)
    {
        var moving = new List<ServiceTorrent>();
        foreach (ServiceTorrent t in torrents)
        {
            if (t.Relocating) throw new ServiceException(ServiceErrorKind.Conflict, $"{t.Record.Name} is already being moved");
            if (string.Equals(Path.GetFullPath(t.Record.SavePath), target, StringComparison.Ordinal)) continue;
            t.Relocating = true;
            t.ViewDirty = true;
            moving.Add(t);
        }
        Settle();
        return moving;
    }

    /// <summary>
    /// Ends a move: the torrent's folder becomes <paramref name="target"/> (with its data moved, or to be found and
    /// checked there); or, when the move failed, it stays where it was with the error shown.
    /// </summary>
    public void EndRelocation(ServiceTorrent t, string target, bool moved, string? error)
    {
        t.Relocating = false;
        t.ViewDirty = true;
        if (t.Removed) return;
        if (t.MissingFiles)
        {
            // Looked for again in the new place when it starts.
            t.MissingFiles = false;
            t.Error = null;
        }
        if (error is not null)
        {
            t.Error = error;
            context.Log.LogWarning("{Name}: {Error}", t.Record.Name, error);
            context.Events.Publish(DaemonEventKind.Error, t.Id, t.Record.InfoHash.ToHex(), t.Record.Name, TorrentActivity.Error, error);
            Settle();
            return;
        }
        TorrentRecord record = t.Record with { SavePath = target };
        context.Store.Write(w => w.UpdateTorrent(record));
        t.Record = record;
        context.Log.LogInformation("{Name} now lives in {Path}", record.Name, target);
        // Data found in another folder is checked before it counts; moved data keeps its resume state.
        if (!moved) Recheck([t]);
        else Settle();
    }

    public void SetFilePriorities(ServiceTorrent t, IReadOnlyList<int> files, FilePriority priority)
    {
        if (!Enum.IsDefined(priority)) throw ServiceException.Bad($"unknown priority {(int)priority}");
        if (t.Metainfo is not { } m) throw new ServiceException(ServiceErrorKind.Conflict, $"{t.Record.Name}: the file list is not known yet (metadata still being fetched)");
        if (files.Count == 0) throw ServiceException.Bad("no file named");
        byte[] priorities = t.Record.FilePriorities is { } p && p.Length == m.Files.Count ? (byte[])p.Clone() : Filled(m.Files.Count);
        bool unskipped = false;
        foreach (int index in files)
        {
            if ((uint)index >= (uint)m.Files.Count) throw ServiceException.NotFound($"{t.Record.Name} has no file {index} (it has {m.Files.Count}, numbered from 0)");
            if (priorities[index] == (byte)FilePriority.Skip && priority != FilePriority.Skip) unskipped = true;
            priorities[index] = (byte)priority;
        }
        bool selectionChanged = !SkipSet(t.Record.FilePriorities, m.Files.Count).SequenceEqual(SkipSet(priorities, m.Files.Count));
        TorrentRecord record = t.Record with { FilePriorities = priorities.All(b => b == (byte)FilePriority.Normal) ? null : priorities };
        context.Store.Write(w => w.UpdateTorrent(record));
        t.Record = record;
        if (unskipped && t.Complete)
        {
            t.Complete = false;
            t.CompletedAt = null;
            t.TotalsDirty = true;
        }
        if (t.Engine == EngineState.Running)
        {
            // The engine applies priorities at once (it restarts the torrent itself when a file it never stored is wanted).
            Picking.FilePriority[] levels = Shoal.Daemon.Engine.EngineBridge.Priorities(priorities, m.Files.Count);
            pass.Engine.Drive(t, "changing file priorities of", h => h.SetFilePrioritiesAsync(levels));
        }
        else if (selectionChanged && t.Engine == EngineState.Starting)
        {
            t.RestartPending = true;
        }
        t.ViewDirty = true;
        Settle();
    }

    public void SetOptions(ServiceTorrent t, TorrentOptionsPatch patch)
    {
        TorrentSettings before = t.Record.Settings;
        if (patch.Trackers is { } trackers) foreach (string url in trackers) CheckTrackerUrl(url);
        TorrentSettings after = before with
        {
            DownloadLimit = patch.DownloadLimit is { } d ? NonNegative(d, "download limit") : before.DownloadLimit,
            UploadLimit = patch.UploadLimit is { } u ? NonNegative(u, "upload limit") : before.UploadLimit,
            MaxConnections = patch.MaxConnections is { } c ? (int)NonNegative(c, "max connections") : before.MaxConnections,
            UploadSlots = patch.UploadSlots is { } s ? (int)NonNegative(s, "upload slots") : before.UploadSlots,
            Sequential = patch.Sequential ?? before.Sequential,
            FirstLastPiecePriority = patch.FirstLastPiecePriority ?? before.FirstLastPiecePriority,
            RatioLimit = patch.RatioLimit is { } r ? (double.IsNaN(r) || r == TorrentOptionsPatch.FollowSession ? null : r) : before.RatioLimit,
            SeedingTimeLimitMinutes = patch.SeedingTimeLimitMinutes is { } st ? (st == TorrentOptionsPatch.FollowSession ? null : st) : before.SeedingTimeLimitMinutes,
            IdleLimitMinutes = patch.IdleLimitMinutes is { } it ? (it == TorrentOptionsPatch.FollowSession ? null : it) : before.IdleLimitMinutes,
            Trackers = patch.Trackers is { } list ? [.. list.Distinct(StringComparer.Ordinal)] : before.Trackers,
        };
        if (after.Equals(before)) return;
        TorrentRecord record = t.Record with { Settings = after };
        context.Store.Write(w => w.UpdateTorrent(record));
        t.Record = record;
        // Limits and the order change in the running torrent; trackers (and anything during a start) at a restart.
        bool limits = after.DownloadLimit != before.DownloadLimit || after.UploadLimit != before.UploadLimit;
        bool connections = after.MaxConnections != before.MaxConnections || after.UploadSlots != before.UploadSlots;
        bool sequential = after.Sequential != before.Sequential;
        bool edgesFirst = after.FirstLastPiecePriority != before.FirstLastPiecePriority;
        bool trackersChanged = !after.Trackers.SequenceEqual(before.Trackers, StringComparer.Ordinal);
        if (t.Engine == EngineState.Running && !trackersChanged)
        {
            if (limits) pass.Engine.Drive(t, "changing the limits of", h => h.SetRateLimitsAsync(after.DownloadLimit, after.UploadLimit));
            if (connections) pass.Engine.Drive(t, "changing the connection limits of", h => h.SetConnectionLimitsAsync(after.MaxConnections, after.UploadSlots));
            if (sequential) pass.Engine.Drive(t, "changing the order of", h => h.SetSequentialAsync(after.Sequential));
            if (edgesFirst) pass.Engine.Drive(t, "changing the first and last piece priority of", h => h.SetFirstAndLastPiecesFirstAsync(after.FirstLastPiecePriority));
        }
        else if ((limits || connections || sequential || edgesFirst || trackersChanged) && t.Engine is EngineState.Running or EngineState.Starting)
        {
            t.RestartPending = true;
        }
        t.ViewDirty = true;
        Settle();
    }

    /// <summary>Plans the queue (starting and stopping what must) and publishes the rows that changed.</summary>
    public void Settle()
    {
        pass.PlanQueue();
        pass.PublishChanges();
    }

    /// <summary>Renumbers queue positions 0..n-1 (after removals), writing only those that moved.</summary>
    public void CompactQueue()
    {
        ServiceTorrent[] ordered = context.Torrents.InQueueOrder();
        WritePositions(ordered);
    }

    /// <summary>Writes the positions of <paramref name="ordered"/> (0..n-1) where they changed, in one transaction.</summary>
    public void WritePositions(IReadOnlyList<ServiceTorrent> ordered)
    {
        var moved = new List<(ServiceTorrent, int)>();
        for (int i = 0; i < ordered.Count; i++)
        {
            if (ordered[i].Record.QueuePosition != i) moved.Add((ordered[i], i));
        }
        if (moved.Count == 0) return;
        context.Store.Write(w =>
        {
            foreach ((ServiceTorrent t, int position) in moved) w.SetQueuePosition(t.Id, position);
        });
        foreach ((ServiceTorrent t, int position) in moved)
        {
            t.Record = t.Record with { QueuePosition = position };
            t.ViewDirty = true;
        }
        context.Torrents.QueueChanged();
    }

    internal void MergeTags(IReadOnlyList<string> tags)
    {
        if (tags.All(context.Tags.Contains)) return;
        context.Tags = [.. context.Tags.Union(tags, StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        context.Events.Publish(DaemonEventKind.TagsChanged);
    }

    internal static string? Clean(string? name)
    {
        if (string.IsNullOrWhiteSpace(name)) return null;
        string trimmed = name.Trim();
        if (trimmed.Length > 200 || trimmed.Any(char.IsControl)) throw ServiceException.Bad($"'{trimmed}' is not a usable name (at most 200 characters, no control characters)");
        return trimmed;
    }

    internal static IReadOnlyList<string> CleanTags(IEnumerable<string> tags)
    {
        var clean = new SortedSet<string>(StringComparer.Ordinal);
        foreach (string tag in tags)
        {
            if (Clean(tag) is { } name)
            {
                if (name.Contains(',', StringComparison.Ordinal)) throw ServiceException.Bad($"tag '{name}' contains a comma");
                clean.Add(name);
            }
        }
        if (clean.Count > 100) throw ServiceException.Bad("a torrent carries at most 100 tags");
        return [.. clean];
    }

    /// <summary>True when any file of <paramref name="torrent"/> exists with some data under <paramref name="savePath"/>.</summary>
    private static bool HasDataOnDisk(Torrent torrent, string savePath)
    {
        foreach (TorrentFile file in torrent.Files)
        {
            if (file.IsPadding) continue;
            var info = new FileInfo(Path.Combine([savePath, .. file.PathSegments]));
            if (info.Exists && info.Length > 0) return true;
        }
        return false;
    }

    private static void CheckTrackerUrl(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out Uri? uri) || uri.Scheme is not ("http" or "https" or "udp") || uri.Host.Length == 0)
            throw ServiceException.Bad($"'{url}' is not an http://, https:// or udp:// tracker URL");
    }

    private static long NonNegative(long value, string what)
        => value >= 0 ? value : throw ServiceException.Bad($"{what} must be 0 or more");

    private static byte[] Filled(int count)
    {
        var bytes = new byte[count];
        Array.Fill(bytes, (byte)FilePriority.Normal);
        return bytes;
    }

    private static byte[]? Priorities(IReadOnlyList<FilePriority>? requested, int? fileCount)
    {
        if (requested is not { Count: > 0 }) return null;
        if (requested.Any(p => !Enum.IsDefined(p))) throw ServiceException.Bad("unknown file priority");
        if (fileCount is { } count && requested.Count > count) throw ServiceException.Bad($"{requested.Count} priorities for {count} files");
        byte[] bytes = Filled(fileCount ?? requested.Count);
        for (int i = 0; i < requested.Count; i++) bytes[i] = (byte)requested[i];
        return bytes.All(b => b == (byte)FilePriority.Normal) ? null : bytes;
    }

    private static IEnumerable<bool> SkipSet(byte[]? priorities, int count)
    {
        for (int i = 0; i < count; i++) yield return priorities is not null && i < priorities.Length && priorities[i] == (byte)FilePriority.Skip;
    }
}
