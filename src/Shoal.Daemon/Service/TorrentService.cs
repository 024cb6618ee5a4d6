using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Shoal.Daemon.Engine;
using Shoal.Daemon.State;
using Shoal.Metainfo;

namespace Shoal.Daemon.Service;

/// <summary>
/// The daemon's torrents: the one place that owns their ids, categories, tags, queue, settings and persistence.
/// The native API, the Transmission and qBittorrent dialects, the web page, the watch folder and the CLI all go
/// through it, never to the engine. Reads return the latest rows at once (no lock, no database); every change runs
/// on one loop, is written to the database before it is answered, and is announced on <see cref="Events"/>.
/// </summary>
/// <remarks>
/// Torrents are named by a reference string everywhere: the daemon's id, the info-hash (hex or base32) or a unique
/// prefix of at least 4 hex digits; lists of references accept "all". Refusals are <see cref="ServiceException"/>s
/// whose <see cref="ServiceException.Kind"/> each API maps to its own error form.
/// </remarks>
public sealed class TorrentService : IAsyncDisposable
{
    private static readonly TimeSpan TickInterval = TimeSpan.FromSeconds(1);

    private readonly ServiceContext _context;
    private readonly StatusPass _pass;
    private readonly TorrentCommands _commands;
    private readonly OrganizeCommands _organize;
    private readonly HttpClient _http;
    private readonly CancellationTokenSource _stop = new();
    private Task _ticker = Task.CompletedTask;
    private int _tickPending;
    private int _resumeFlushPosted;
    private int _disposed;

    private TorrentService(ServiceContext context)
    {
        _context = context;
        var engine = new EngineReconciler(context);
        _pass = new StatusPass(context, engine, RemoveForGoalAsync);
        _commands = new TorrentCommands(context, _pass);
        _organize = new OrganizeCommands(context, _commands);
        _http = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false, // followed by hand, so a redirect to a magnet link works
            ConnectTimeout = TimeSpan.FromSeconds(15),
        })
        { Timeout = TimeSpan.FromSeconds(30) };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("Shoal/0.1");
    }

    /// <summary>
    /// Loads the daemon's state from <paramref name="store"/> (categories, tags, torrents; <paramref name="settings"/>
    /// were resolved by the caller) and starts what the queue lets run.
    /// </summary>
    internal static async Task<TorrentService> StartAsync(StateStore store, EngineBridge engine, FolderPolicy folders,
        DaemonSettings settings, TimeProvider time, ILogger log)
    {
        var context = new ServiceContext(store, engine, folders, settings, time, log)
        {
            Categories = new Dictionary<string, string>(store.LoadCategories(), StringComparer.Ordinal),
            Tags = store.LoadTags(),
        };
        var service = new TorrentService(context);
        // The engine's resume saves reach the database on the loop: one flush posted at a time (the tick flushes too).
        engine.Resume.OnPending(() =>
        {
            if (Interlocked.Exchange(ref service._resumeFlushPosted, 1) == 1) return;
            if (!context.Loop.TryPost(() =>
            {
                Volatile.Write(ref service._resumeFlushPosted, 0);
                service._pass.FlushResume();
                return Task.CompletedTask;
            }))
            {
                Volatile.Write(ref service._resumeFlushPosted, 0);
            }
        });
        await context.Loop.RunAsync(() =>
        {
            service.Load(store.LoadTorrents());
            return Task.CompletedTask;
        }).ConfigureAwait(false);
        service._ticker = service.TickAsync(service._stop.Token);
        return service;
    }

    private void Load(IReadOnlyList<StoredTorrent> stored)
    {
        foreach (StoredTorrent s in stored)
        {
            Torrent? metainfo = null;
            string? error = null;
            if (s.Record.Metainfo is { } bytes)
            {
                try
                {
                    metainfo = Torrent.Parse(bytes);
                    if (metainfo.InfoHash != s.Record.InfoHash) (metainfo, error) = (null, "the stored metainfo is of another torrent");
                }
                catch (MetainfoException ex)
                {
                    error = "the stored metainfo is damaged: " + ex.Message;
                }
            }
            var t = new ServiceTorrent(s.Record, s.Totals, metainfo, _context.Time)
            {
                Error = error,
                RenamedFiles = metainfo is null ? null : EngineBridge.RenamedFiles(s.Record.InfoHash, s.Resume),
            };
            if (s.Resume is { } resume) _context.Engine.Resume.Preload(s.Record.InfoHash, resume);
            if (error is not null) _context.Log.LogError("{Name}: {Error}", s.Record.Name, error);
            t.View = ViewFactory.Torrent(t);
            _context.Torrents.Add(t);
        }
        _commands.CompactQueue();
        _commands.Settle();
        _context.Log.LogInformation("{Count} torrents loaded from {Path}", stored.Count, _context.Store.Path);
    }

    private async Task TickAsync(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(TickInterval, _context.Time);
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                RecordRates();
                // At most one pass waits in the mailbox: a slow pass is not followed by a pile of them.
                if (Interlocked.Exchange(ref _tickPending, 1) == 1) continue;
                if (!_context.Loop.TryPost(async () =>
                {
                    Volatile.Write(ref _tickPending, 0);
                    await _pass.TickAsync().ConfigureAwait(false);
                }))
                {
                    Volatile.Write(ref _tickPending, 0);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>Adds the total rates of the rows in force to <see cref="RateHistory"/> (read lock-free, off the loop).</summary>
    private void RecordRates()
    {
        long down = 0, up = 0;
        foreach (ServiceTorrent t in _context.Torrents.All)
        {
            down += t.View.DownRate;
            up += t.View.UpRate;
        }
        RateHistory.Record(_context.Time.GetUtcNow(), down, up);
    }

    /// <summary>The daemon's total rates over the last ten minutes (the web page's graph).</summary>
    public RateHistory RateHistory { get; } = new();

    /// <summary>The once-a-second pass (its counters tell tests what an idle daemon does).</summary>
    internal StatusPass Pass => _pass;

    /// <summary>The state store (its transaction count tells tests how adds are written).</summary>
    internal StateStore Store => _context.Store;

    /// <summary>The torrents (its sort count tells tests what an add costs).</summary>
    internal TorrentTable Table => _context.Torrents;

    /// <summary>The daemon's event stream.</summary>
    public EventHub Events => _context.Events;

    /// <summary>The settings in force.</summary>
    public DaemonSettings Settings => _context.Settings;

    /// <summary>The folders the daemon may use.</summary>
    public FolderPolicy Folders => _context.Folders;

    /// <summary>Every torrent's row, by id. Never blocks; allocates only the list.</summary>
    public IReadOnlyList<TorrentView> List()
    {
        ServiceTorrent[] all = _context.Torrents.All;
        var views = new TorrentView[all.Length];
        for (int i = 0; i < all.Length; i++) views[i] = all[i].View;
        return views;
    }

    /// <summary>One torrent's row. Throws <see cref="ServiceException"/> (not found) when no torrent matches.</summary>
    public TorrentView Get(string reference) => _context.Torrents.Resolve(reference).View;

    /// <summary>The rows of several torrents ("all" for every one).</summary>
    public IReadOnlyList<TorrentView> Get(IReadOnlyList<string> references) => [.. _context.Torrents.Resolve(references).Select(t => t.View)];

    /// <summary>One torrent in full.</summary>
    public TorrentDetails GetDetails(string reference) => ViewFactory.Details(_context.Torrents.Resolve(reference));

    /// <summary>A torrent's files (empty while a magnet's metadata is unknown).</summary>
    public IReadOnlyList<FileView> GetFiles(string reference) => ViewFactory.Files(_context.Torrents.Resolve(reference));

    /// <summary>
    /// Opens file <paramref name="fileIndex"/> of a running torrent for streaming (GET /stream/{hash}/{file}). Refused
    /// (conflict) while the metadata is unknown, for a skipped file, or when the torrent is not in the engine (queued,
    /// or paused since the daemon started: resume it); not found for a file index it does not have.
    /// </summary>
    public StreamedFile OpenStream(string reference, int fileIndex)
    {
        ServiceTorrent t = _context.Torrents.Resolve(reference);
        if (t.Metainfo is not { } m) throw new ServiceException(ServiceErrorKind.Conflict, $"{t.Record.Name}: the file list is not known yet (metadata still being fetched)");
        if ((uint)fileIndex >= (uint)m.Files.Count || m.Files[fileIndex].IsPadding)
            throw ServiceException.NotFound($"{t.Record.Name} has no file {fileIndex} (it has {m.Files.Count}, numbered from 0)");
        if (t.Record.FilePriorities is { } p && fileIndex < p.Length && p[fileIndex] == (byte)FilePriority.Skip)
            throw new ServiceException(ServiceErrorKind.Conflict, $"file {fileIndex} of {t.Record.Name} is skipped: give it a priority to stream it");
        Swarm.TorrentHandle handle = t.Handle
            ?? throw new ServiceException(ServiceErrorKind.Conflict, $"{t.Record.Name} is not running ({t.Activity.ToString().ToLowerInvariant()}): resume it to stream");
        return new StreamedFile(handle, fileIndex, m.Files[fileIndex].Path, m.Files[fileIndex].Length);
    }

    /// <summary>A torrent's connected peers (empty when it is not running).</summary>
    public IReadOnlyList<PeerView> GetPeers(string reference) => ViewFactory.Peers(_context.Torrents.Resolve(reference));

    /// <summary>A torrent's piece map: verified pieces and pieces being downloaded (for a details view).</summary>
    public Task<PieceMapView> GetPieceMapAsync(string reference, CancellationToken cancellationToken = default)
        => PieceMaps.ReadAsync(_context.Torrents.Resolve(reference), _context.Engine, cancellationToken);

    /// <summary>A torrent's trackers.</summary>
    public IReadOnlyList<TrackerView> GetTrackers(string reference) => ViewFactory.Trackers(_context.Torrents.Resolve(reference));

    /// <summary>A torrent's own options: limits, connections, sequential mode, seeding goals, extra trackers.</summary>
    public TorrentSettings GetSettings(string reference) => _context.Torrents.Resolve(reference).Record.Settings;

    /// <summary>
    /// Where a torrent's content is on disk: its save path joined with the torrent's root (its single file, or its
    /// top folder); the save path and display name while a magnet's metadata is unknown.
    /// </summary>
    public string GetContentPath(string reference)
    {
        ServiceTorrent t = _context.Torrents.Resolve(reference);
        string root = t.Metainfo is { Files.Count: > 0 } m ? m.Files[0].PathSegments[0] : t.Record.Name;
        return Path.Combine(t.Record.SavePath, root);
    }

    /// <summary>The categories with their folders, by name.</summary>
    public IReadOnlyList<CategoryView> GetCategories()
        => [.. _context.Categories.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => new CategoryView(p.Key, p.Value))];

    /// <summary>The tags, sorted.</summary>
    public IReadOnlyList<string> GetTags() => _context.Tags;

    /// <summary>The daemon's totals.</summary>
    public SessionStatsView GetStats()
    {
        long down = 0, up = 0, downloaded = 0, uploaded = 0;
        int downloading = 0, seeding = 0, paused = 0, queued = 0, checking = 0, errored = 0, peers = 0;
        ServiceTorrent[] all = _context.Torrents.All;
        foreach (ServiceTorrent t in all)
        {
            TorrentView v = t.View;
            down += v.DownRate;
            up += v.UpRate;
            downloaded += v.Downloaded;
            uploaded += v.Uploaded;
            peers += v.Peers;
            switch (v.State)
            {
                case TorrentActivity.Downloading or TorrentActivity.FetchingMetadata: downloading++; break;
                case TorrentActivity.Seeding: seeding++; break;
                case TorrentActivity.Paused: paused++; break;
                case TorrentActivity.QueuedDownload or TorrentActivity.QueuedSeed: queued++; break;
                case TorrentActivity.Checking: checking++; break;
                case TorrentActivity.Error: errored++; break;
            }
        }
        DaemonSettings settings = _context.Settings;
        bool alt = settings.IsAltSpeedActive(_context.Time.GetLocalNow());
        return new SessionStatsView(down, up, downloaded, uploaded, all.Length, downloading, seeding, paused, queued, checking, errored,
            peers, _context.Engine.DhtNodes, _context.Engine.ListenPort, FreeSpace(settings.DefaultSavePath), alt,
            alt ? settings.AltDownloadLimit : settings.DownloadLimit, alt ? settings.AltUploadLimit : settings.UploadLimit,
            (long)_context.Time.GetElapsedTime(_context.StartedAt).TotalSeconds);
    }

    /// <summary>Free bytes on the file system of <paramref name="path"/> (its nearest existing folder); -1 when unknown.</summary>
    public static long FreeSpace(string path)
    {
        try
        {
            string? existing = Path.GetFullPath(path);
            while (existing is not null && !Directory.Exists(existing)) existing = Path.GetDirectoryName(existing);
            return existing is null ? -1 : new DriveInfo(existing).AvailableFreeSpace;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return -1;
        }
    }

    /// <summary>
    /// Adds a torrent (a .torrent's bytes, a magnet link, an info-hash or a URL that is fetched first). It is in the
    /// database when this returns. Throws <see cref="ServiceException"/>: bad input, a folder outside the daemon's,
    /// a duplicate (conflict), a URL that failed.
    /// </summary>
    public async Task<TorrentView> AddAsync(AddTorrentRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        TorrentSource source = await TorrentSource.ReadAsync(request, _http, cancellationToken).ConfigureAwait(false);
        return await OnLoop(() => _commands.Add(request, source), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Adds several torrents (each a .torrent's bytes, a magnet link, an info-hash or a URL fetched first) in one
    /// transaction: every one added is in the database when this returns, and the lot costs one durable commit and one
    /// queue plan instead of one each. Each gets its <see cref="AddOutcome"/> (same order); one refused does not stop
    /// the others.
    /// </summary>
    public async Task<IReadOnlyList<AddOutcome>> AddManyAsync(IReadOnlyList<AddTorrentRequest> requests, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(requests);
        var outcomes = new AddOutcome[requests.Count];
        var valid = new List<(AddTorrentRequest Request, TorrentSource Source)>(requests.Count);
        var where = new List<int>(requests.Count);
        for (int i = 0; i < requests.Count; i++)
        {
            try
            {
                valid.Add((requests[i], await TorrentSource.ReadAsync(requests[i], _http, cancellationToken).ConfigureAwait(false)));
                where.Add(i);
            }
            catch (ServiceException ex)
            {
                outcomes[i] = new AddOutcome(null, ex);
            }
        }
        if (valid.Count > 0)
        {
            AddOutcome[] added = await OnLoop(() => _commands.AddMany(valid), cancellationToken).ConfigureAwait(false);
            for (int j = 0; j < added.Length; j++) outcomes[where[j]] = added[j];
        }
        return outcomes;
    }

    /// <summary>Pauses torrents: they leave the engine (no connections); data and resume state stay.</summary>
    public Task PauseAsync(IReadOnlyList<string> references) => OnLoop(() => _commands.Pause(Resolve(references)));

    /// <summary>Resumes torrents (clearing an error): they run when the queue has room.</summary>
    public Task ResumeAsync(IReadOnlyList<string> references) => OnLoop(() => _commands.Resume(Resolve(references), force: false));

    /// <summary>Starts torrents whatever the queue says.</summary>
    public Task ForceStartAsync(IReadOnlyList<string> references) => OnLoop(() => _commands.Resume(Resolve(references), force: true));

    /// <summary>Checks every piece of the torrents' data again (a paused torrent is checked and stays paused).</summary>
    public Task RecheckAsync(IReadOnlyList<string> references) => OnLoop(() => _commands.Recheck(Resolve(references)));

    /// <summary>
    /// Removes torrents from the daemon; with <paramref name="deleteData"/> their files go too, once the engine has
    /// closed them. Returns the problems met deleting (empty when all went).
    /// </summary>
    public async Task<IReadOnlyList<string>> RemoveAsync(IReadOnlyList<string> references, bool deleteData)
    {
        IReadOnlyList<(ServiceTorrent Torrent, Task Stopped)> removed =
            await OnLoop(() => _commands.Remove(Resolve(references))).ConfigureAwait(false);
        var problems = new List<string>();
        foreach ((ServiceTorrent t, _) in removed)
        {
            await WaitStoppedAsync(t).ConfigureAwait(false);
            try
            {
                _context.Engine.ForgetResume(t.Record.InfoHash);
            }
            catch (ServiceException ex)
            {
                problems.Add(ex.Message);
            }
            if (deleteData) problems.AddRange(DeleteData(t));
        }
        foreach (string problem in problems) _context.Log.LogWarning("removing data: {Problem}", problem);
        return problems;
    }

    private async Task RemoveForGoalAsync(ServiceTorrent t, string reason)
    {
        // On the loop already: remove now, wait for the engine in the background.
        IReadOnlyList<(ServiceTorrent Torrent, Task Stopped)> removed = _commands.Remove([t], "seeding goal reached: " + reason);
        _ = Task.Run(async () =>
        {
            foreach ((ServiceTorrent r, _) in removed)
            {
                await WaitStoppedAsync(r).ConfigureAwait(false);
                try { _context.Engine.ForgetResume(r.Record.InfoHash); } catch (ServiceException) { }
            }
        });
        await Task.CompletedTask.ConfigureAwait(false);
    }

    /// <summary>Waits until <paramref name="t"/> has left the engine (a start under way is followed by its stop).</summary>
    private async Task WaitStoppedAsync(ServiceTorrent t)
    {
        while (true)
        {
            (EngineState state, Task work) = await _context.Loop.RunAsync(() => Task.FromResult((t.Engine, t.EngineWork))).ConfigureAwait(false);
            if (state == EngineState.Stopped) return;
            await work.ConfigureAwait(false);
        }
    }

    /// <summary>Announces the running torrents to their trackers now (the others announce when they start).</summary>
    public Task ReannounceAsync(IReadOnlyList<string> references) => OnLoop(() =>
    {
        foreach (ServiceTorrent t in Resolve(references)) t.Handle?.Reannounce();
    });

    /// <summary>
    /// Gives torrents another folder (inside the daemon's folders). With <paramref name="move"/> their files (and
    /// partial pieces) are moved there, never over an existing file, and a move that fails is undone and shown as the
    /// torrent's error; without it the data is looked for there and checked. The torrents leave the engine meanwhile.
    /// </summary>
    public async Task SetLocationAsync(IReadOnlyList<string> references, string path, bool move)
    {
        ArgumentNullException.ThrowIfNull(path);
        string target = _context.Folders.Confine(path, "the new folder", _context.Settings.DefaultSavePath);
        IReadOnlyList<ServiceTorrent> moving = await OnLoop(() => _commands.BeginRelocation(Resolve(references), target)).ConfigureAwait(false);
        var problems = new List<string>();
        foreach (ServiceTorrent t in moving)
        {
            await WaitStoppedAsync(t).ConfigureAwait(false);
            (Torrent? metainfo, string from, InfoHash hash, IReadOnlyDictionary<int, string>? renamed) =
                await _context.Loop.RunAsync(() => Task.FromResult((t.Metainfo, t.Record.SavePath, t.Record.InfoHash, t.RenamedFiles))).ConfigureAwait(false);
            string? error = move ? await Task.Run(() => MoveData(metainfo, hash, from, target, renamed)).ConfigureAwait(false) : null;
            await OnLoop(() => _commands.EndRelocation(t, target, move, error)).ConfigureAwait(false);
            if (error is not null) problems.Add(error);
        }
        if (problems.Count > 0) throw new ServiceException(ServiceErrorKind.Failed, string.Join("; ", problems));
    }

    /// <summary>
    /// Deletes a removed torrent's data (out of the engine by now) through the library's <see cref="Shoal.Storage.TorrentData.Delete"/>:
    /// its own files, the folders they leave empty and its partial pieces, and only inside the daemon's folders.
    /// </summary>
    private IReadOnlyList<string> DeleteData(ServiceTorrent t)
    {
        string root = Path.GetFullPath(t.Record.SavePath);
        if (!_context.Folders.Contains(root)) return [$"{root} is outside the daemon's folders: nothing deleted"];
        return Shoal.Storage.TorrentData.Delete(t.Metainfo, t.Record.InfoHash, root, t.RenamedFiles);
    }

    /// <summary>
    /// Moves a stopped torrent's data through the library's <see cref="Shoal.Storage.TorrentData.Move"/> (nothing overwritten, a failed
    /// move undone), both folders inside the daemon's; returns why it failed, or null.
    /// </summary>
    private string? MoveData(Torrent? metainfo, InfoHash hash, string from, string to, IReadOnlyDictionary<int, string>? renamed)
    {
        if (!_context.Folders.Contains(Path.GetFullPath(from)) || !_context.Folders.Contains(Path.GetFullPath(to)))
            return $"moving {hash.ToHex()}: both folders must be inside the daemon's folders";
        try
        {
            Shoal.Storage.TorrentData.Move(metainfo, hash, from, to, renamed);
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return ex.Message;
        }
    }

    /// <summary>Sets the priority of some files of a torrent; a skipped file is never downloaded nor written.</summary>
    public Task SetFilePrioritiesAsync(string reference, IReadOnlyList<int> files, FilePriority priority)
        => OnLoop(() => _commands.SetFilePriorities(_context.Torrents.Resolve(reference), files, priority));

    /// <summary>Changes a torrent's limits, mode, goals or extra trackers.</summary>
    public Task SetOptionsAsync(string reference, TorrentOptionsPatch patch)
    {
        ArgumentNullException.ThrowIfNull(patch);
        return OnLoop(() => _commands.SetOptions(_context.Torrents.Resolve(reference), patch));
    }

    /// <summary>Moves torrents in the queue.</summary>
    public Task MoveInQueueAsync(IReadOnlyList<string> references, QueueMove move) => OnLoop(() => _organize.MoveInQueue(Resolve(references), move));

    /// <summary>Moves torrents to a place in the queue (0 is the front; past the end is the end), keeping their order.</summary>
    public Task MoveToQueuePositionAsync(IReadOnlyList<string> references, int position)
        => OnLoop(() => _organize.MoveToQueuePosition(Resolve(references), position));

    /// <summary>
    /// Renames a file or a folder of a torrent (<paramref name="path"/> as its file list shows it, "Name/sub/file") to
    /// <paramref name="newPath"/> on disk and in its layout, through the engine (the torrent continues without a
    /// recheck; the engine's resume data keeps the new names). The torrent must be loaded in the engine (running, or
    /// paused or queued after it ran).
    /// </summary>
    public async Task RenamePathAsync(string reference, string path, string newPath)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(newPath);
        (ServiceTorrent t, Swarm.TorrentHandle handle) = await OnLoop(() =>
        {
            ServiceTorrent found = _context.Torrents.Resolve(reference);
            if (found.Metainfo is null) throw new ServiceException(ServiceErrorKind.Conflict, $"{found.Record.Name}: the file list is not known yet (metadata still being fetched)");
            if (found.Handle is not { } loaded || found.Relocating)
                throw new ServiceException(ServiceErrorKind.Conflict, $"{found.Record.Name} is not loaded (stopped, moving, or never started since the daemon started): resume it, then rename its files");
            return (found, loaded);
        }).ConfigureAwait(false);
        string current = path.Trim('/');
        try
        {
            IReadOnlyList<Swarm.FileStatus> files = await handle.GetFilesAsync().ConfigureAwait(false);
            int index = files.FirstOrDefault(f => !f.IsPadding && f.Path == current)?.Index ?? -1;
            if (index >= 0) await handle.RenameFileAsync(index, newPath.Trim('/')).ConfigureAwait(false);
            else await handle.RenameFolderAsync(current, newPath.Trim('/')).ConfigureAwait(false);
            files = await handle.GetFilesAsync().ConfigureAwait(false);
            Torrent metainfo = t.Metainfo!;
            var renamed = files.Where(f => f.Index < metainfo.Files.Count && f.Path != metainfo.Files[f.Index].Path).ToDictionary(f => f.Index, f => f.Path);
            await OnLoop(() =>
            {
                t.RenamedFiles = renamed.Count == 0 ? null : renamed;
                t.ViewDirty = true;
                _context.Log.LogInformation("{Name}: '{Path}' renamed to '{NewPath}'", t.Record.Name, current, newPath);
            }).ConfigureAwait(false);
        }
        catch (ArgumentException ex)
        {
            throw ServiceException.Bad(ex.Message);
        }
        catch (IOException ex)
        {
            throw new ServiceException(ServiceErrorKind.Failed, ex.Message, ex);
        }
        catch (InvalidOperationException ex)
        {
            throw new ServiceException(ServiceErrorKind.Conflict, $"{t.Record.Name}: {ex.Message}", ex);
        }
    }

    /// <summary>Changes the name a torrent is shown with (its files on disk keep theirs).</summary>
    public Task RenameAsync(string reference, string name) => OnLoop(() => _organize.Rename(_context.Torrents.Resolve(reference), name));

    /// <summary>Sets (or with null clears) the category of torrents; the category must exist.</summary>
    public Task SetCategoryAsync(IReadOnlyList<string> references, string? category) => OnLoop(() => _organize.SetCategory(Resolve(references), category));

    /// <summary>Adds tags to torrents (creating the tags).</summary>
    public Task AddTagsAsync(IReadOnlyList<string> references, IReadOnlyList<string> tags) => OnLoop(() => _organize.AddTags(Resolve(references), tags));

    /// <summary>Takes tags off torrents.</summary>
    public Task RemoveTagsAsync(IReadOnlyList<string> references, IReadOnlyList<string> tags) => OnLoop(() => _organize.RemoveTags(Resolve(references), tags));

    /// <summary>Creates a category, or changes its folder (an empty folder means the default folder).</summary>
    public Task<CategoryView> PutCategoryAsync(string name, string? savePath, bool mustExist = false)
        => OnLoop(() => _organize.PutCategory(name, savePath, mustExist));

    /// <summary>Deletes categories; their torrents keep no category.</summary>
    public Task DeleteCategoriesAsync(IReadOnlyList<string> names) => OnLoop(() => _organize.DeleteCategories(names));

    /// <summary>Creates tags.</summary>
    public Task CreateTagsAsync(IReadOnlyList<string> tags) => OnLoop(() => _organize.CreateTags(tags));

    /// <summary>Deletes tags (from every torrent too).</summary>
    public Task DeleteTagsAsync(IReadOnlyList<string> tags) => OnLoop(() => _organize.DeleteTags(tags));

    /// <summary>Changes settings: <paramref name="patch"/> names the keys to change (snake_case, as the API shows them).</summary>
    public Task<DaemonSettings> UpdateSettingsAsync(JsonObject patch)
    {
        ArgumentNullException.ThrowIfNull(patch);
        return OnLoop(() => _organize.UpdateSettings(patch));
    }

    /// <summary>Writes a secret (the password hash) to the settings table; null deletes it.</summary>
    internal Task PutSecretAsync(string key, string? value)
        => OnLoop(() => _context.Store.Write(w => w.PutSetting(key, value)));

    private IReadOnlyList<ServiceTorrent> Resolve(IReadOnlyList<string> references) => _context.Torrents.Resolve(references);

    private Task OnLoop(Action action, CancellationToken cancellationToken = default)
        => _context.Loop.RunAsync(() => { action(); return Task.CompletedTask; }, cancellationToken);

    private Task<T> OnLoop<T>(Func<T> action, CancellationToken cancellationToken = default)
        => _context.Loop.RunAsync(() => Task.FromResult(action()), cancellationToken);

    /// <summary>Stops every torrent in the engine (their resume data saved), writes the counters, and closes the loop.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _stop.Cancel();
        await _ticker.ConfigureAwait(false);
        while (true)
        {
            Task[] pending = await _context.Loop.RunAsync(() =>
            {
                _context.Stopping = true;
                foreach (ServiceTorrent t in _context.Torrents.All) _pass.Engine.Reconcile(t);
                return Task.FromResult(_context.Torrents.All.Where(t => t.Engine != EngineState.Stopped).Select(t => t.EngineWork).ToArray());
            }).ConfigureAwait(false);
            if (pending.Length == 0) break;
            await Task.WhenAll(pending).ConfigureAwait(false);
        }
        await _context.Loop.RunAsync(() =>
        {
            foreach (ServiceTorrent t in _context.Torrents.All) t.TotalsDirty = true;
            _pass.WriteCounters();
            return Task.CompletedTask;
        }).ConfigureAwait(false);
        await _context.Loop.DisposeAsync().ConfigureAwait(false);
        _http.Dispose();
        _stop.Dispose();
    }
}
