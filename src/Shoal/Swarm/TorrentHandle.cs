using System.Net;
using Shoal.Metainfo;
using Shoal.Picking;
using Shoal.Trackers;

namespace Shoal.Swarm;

/// <summary>
/// The public face of one torrent in a session; every call posts to the torrent's actor or reads its snapshots. The
/// handle stays valid across pauses and the restarts some changes need (a recheck, a skipped file wanted again).
/// Calls on a torrent that has left the session throw <see cref="InvalidOperationException"/>.
/// </summary>
public sealed class TorrentHandle
{
    private readonly ShoalSession _session;
    private readonly SessionTorrent _entry;

    internal TorrentHandle(ShoalSession session, SessionTorrent entry)
    {
        _session = session;
        _entry = entry;
    }

    private TorrentActor Actor => _entry.Actor;

    /// <summary>The state of each of the torrent's trackers (last error, next announce, peers received).</summary>
    public IReadOnlyList<TrackerStatus> GetTrackers() => _entry.Trackers?.GetStatus() ?? _entry.LastTrackerStatus;

    /// <summary>The torrent's info-hash.</summary>
    public InfoHash InfoHash => Actor.InfoHash;

    /// <summary>The torrent's metainfo; null while a magnet link's metadata is being fetched.</summary>
    public Torrent? Torrent => Actor.Torrent;

    /// <summary>Completes with the metainfo once it is known (at once when added from a .torrent).</summary>
    public Task<Torrent> Metadata => Actor.Metadata;

    /// <summary>The latest snapshot (refreshed twice a second by a running torrent, at once on a change; never blocks).</summary>
    public TorrentStatus GetStatus() => Actor.Status;

    /// <summary>
    /// The latest snapshot of the connected peers: refreshed twice a second, when a peer joins, and when the download
    /// completes (a peer that left shows until the next refresh).
    /// </summary>
    public IReadOnlyList<PeerStatus> GetPeers() => Actor.PeerSnapshot;

    /// <summary>The latest snapshot of the torrent's web seeds (BEP 19 and BEP 17): state, traffic, last error. Empty when it has none.</summary>
    public IReadOnlyList<WebSeeds.WebSeedStatus> GetWebSeeds() => Actor.WebSeedSnapshot;

    /// <summary>
    /// Completes when every wanted piece is verified; faults with an <see cref="IOException"/> when the torrent
    /// stops on an error; is cancelled when the torrent is stopped first (or restarted: read it again then).
    /// </summary>
    public Task Completion => Actor.Completion;

    /// <summary>Dials more peers (under the connection limits). Returns false when the torrent's mailbox is full.</summary>
    public bool AddPeers(IEnumerable<IPEndPoint> peers, PeerSource source = PeerSource.Manual)
    {
        ArgumentNullException.ThrowIfNull(peers);
        return Actor.AddPeers(peers.ToArray(), source);
    }

    /// <summary>
    /// Pauses the torrent: its peers are closed, its trackers hear "stopped", it is announced nowhere, its files are
    /// closed and nothing of it runs (no timer); verified pieces, priorities and partly downloaded pieces are kept.
    /// Returns false when it was paused already.
    /// </summary>
    public Task<bool> PauseAsync() => _session.PauseAsync(_entry);

    /// <summary>
    /// Resumes a paused torrent (without a check; a torrent added paused checks its data now); with a queue limit it
    /// runs when its turn comes (<see cref="TorrentState.Queued"/> until then). False when it was not paused.
    /// </summary>
    public Task<bool> ResumeAsync() => _session.ResumeAsync(_entry);

    /// <summary>Runs the torrent now whatever the queue says (it takes no queue slot) until it is paused.</summary>
    public Task<bool> ForceStartAsync() => _session.ResumeAsync(_entry, force: true);

    /// <summary>The torrent's place in the session's queue (0 is the front).</summary>
    public int QueuePosition => _session.QueuePositionOf(_entry);

    /// <summary>Moves the torrent to <paramref name="position"/> in the queue (0 is the front; past the end is the end).</summary>
    public Task SetQueuePositionAsync(int position) => _session.SetQueuePositionAsync(_entry, position);

    /// <summary>
    /// Sets every file's priority (<see cref="Metainfo.Torrent.Files"/> order; files past the list's end: normal).
    /// Skip stops requesting a file's pieces (the ones it shares with wanted files still download); high files come
    /// first, low ones last. A file skipped since the torrent started that becomes wanted restarts the torrent under
    /// this handle (its data path changes; resume data makes that a matter of milliseconds).
    /// </summary>
    public Task SetFilePrioritiesAsync(IReadOnlyList<FilePriority> priorities)
    {
        ArgumentNullException.ThrowIfNull(priorities);
        FilePriority[] copy = [.. priorities];
        return _session.SetFilePrioritiesAsync(_entry, copy);
    }

    /// <summary>Every file's progress and priority (empty until the metadata is known).</summary>
    public Task<IReadOnlyList<FileStatus>> GetFilesAsync()
    {
        TorrentActor actor = Actor;
        return actor.InvokeAsync<IReadOnlyList<FileStatus>>(actor.GetFiles);
    }

    /// <summary>Downloads pieces in order (after deadline and high-priority pieces) instead of rarest first.</summary>
    public Task SetSequentialAsync(bool sequential)
    {
        TorrentActor actor = Actor;
        return actor.InvokeAsync(() => actor.SetSequential(sequential));
    }

    /// <summary>
    /// Puts the first and last piece of every wanted file before the rest (after pieces with a deadline), or gives them
    /// back their files' priorities; applied at once, as <see cref="TorrentOptions.FirstAndLastPiecesFirst"/>.
    /// </summary>
    public Task SetFirstAndLastPiecesFirstAsync(bool on)
    {
        TorrentActor actor = Actor;
        return actor.InvokeAsync(() => actor.SetFirstAndLastPiecesFirst(on));
    }

    /// <summary>Changes the torrent's download and upload caps (bytes per second, 0 unlimited) at once; the session's caps still apply.</summary>
    public Task SetRateLimitsAsync(long maxDownloadRate, long maxUploadRate)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxDownloadRate);
        ArgumentOutOfRangeException.ThrowIfNegative(maxUploadRate);
        TorrentActor actor = Actor;
        return actor.InvokeAsync(() => actor.SetRateLimits(maxDownloadRate, maxUploadRate));
    }

    /// <summary>
    /// Sets the torrent's own seeding goals (null: it follows the session's, <see cref="ShoalSession.SeedingGoals"/>),
    /// acted on from the next pass of the session's goals (within a second).
    /// </summary>
    public Task SetSeedingGoalsAsync(SeedingGoals? goals) => _session.SetSeedingGoalsAsync(_entry, goals);

    /// <summary>Time the torrent has spent seeding (not paused, not queued) since it joined the session (a start or a stop of seeding is seen within a second).</summary>
    public TimeSpan SeedingTime => _entry.Seeding.SeedingTime(_session.Time);

    /// <summary>
    /// Changes the torrent's own connection limit and upload slots at once (0 follows the session's): past the new limit
    /// its least useful peers are closed and new ones refused; the slots apply from its next choke decision.
    /// </summary>
    public Task SetConnectionLimitsAsync(int maxConnections, int uploadSlots)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxConnections);
        ArgumentOutOfRangeException.ThrowIfNegative(uploadSlots);
        TorrentActor actor = Actor;
        return actor.InvokeAsync(() => actor.SetConnectionLimits(maxConnections, uploadSlots));
    }

    /// <summary>Announces to every tracker now, whatever their interval says.</summary>
    public void Reannounce() => _entry.Trackers?.Reannounce();

    /// <summary>
    /// Forgets the resume data and checks every piece on disk again (the torrent restarts under this handle). A running
    /// torrent goes on from what the check found; a paused one is checked now without peers and stays paused (as
    /// <see cref="TorrentOptions.CheckWhilePaused"/>): a verify never downloads behind the user's back.
    /// </summary>
    public Task RecheckAsync() => _session.RestartAsync(_entry, forgetResume: true, checkWhilePaused: true);

    /// <summary>
    /// Reads up to <paramref name="destination"/>'s length of file <paramref name="fileIndex"/> from
    /// <paramref name="offset"/>, waiting until the pieces holding those bytes are verified: they get piece deadlines
    /// (the next few pieces a later one), so a file can be streamed while it downloads. Returns the bytes read (fewer at
    /// the end of the file, 0 past it). Throws <see cref="InvalidOperationException"/> when the file is skipped, the
    /// metadata is unknown, the torrent stops, or <see cref="TorrentActor.MaxWaitingReads"/> reads wait already.
    /// </summary>
    public async Task<int> ReadAsync(int fileIndex, long offset, Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        TorrentActor actor = Actor;
        FileRead read = await actor.InvokeAsync(() => actor.PlanRead(fileIndex, offset, destination.Length)).ConfigureAwait(false);
        if (read.Length == 0) return 0;
        try
        {
            await read.Ready.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _ = actor.InvokeAsync(() => actor.ForgetRead(read.Ready)).ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
            throw;
        }
        await actor.ReadVerifiedAsync(read.TorrentOffset, destination[..read.Length], cancellationToken).ConfigureAwait(false);
        return read.Length;
    }

    /// <summary>
    /// The verified pieces and those being downloaded, answered by the torrent's actor between two of its events;
    /// cancelled when the torrent stops first. For a view of one torrent (a piece map), not for polling many.
    /// </summary>
    public async Task<PieceMap> GetPieceMapAsync(CancellationToken cancellationToken = default)
    {
        Task<PieceMap> answer = Actor.RequestPieceMap() ?? throw new OperationCanceledException("the torrent is stopping or busy");
        return await answer.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops the torrent and removes it from the session; data on disk stays.</summary>
    public Task StopAsync() => _session.RemoveAsync(_entry);

    /// <summary>
    /// Removes the torrent from the session, as <see cref="StopAsync"/>; with <paramref name="deleteData"/> its resume
    /// data and its data go too once its files are closed: only its own files, the folders they leave empty and its
    /// partial-pieces folder (see <see cref="Storage.TorrentData.Delete"/>), never another file of the download folder.
    /// Returns the paths that could not be deleted, with why (empty when everything went).
    /// </summary>
    public async Task<IReadOnlyList<string>> RemoveAsync(bool deleteData)
    {
        if (!deleteData)
        {
            await _session.RemoveAsync(_entry).ConfigureAwait(false);
            return [];
        }
        return await _session.RemoveWithDataAsync(_entry).ConfigureAwait(false);
    }

    /// <summary>
    /// Renames file <paramref name="fileIndex"/> on disk (when it is there) and in the torrent's layout: its new path is
    /// under the download folder, '/'-separated, the torrent's folder included ("Name/sub/new.bin"), and may lie in
    /// other folders (they are made). The torrent restarts under this handle without a recheck (paused if it was); the
    /// rename is kept in its resume data, so adding it again after a restart finds the file (see
    /// <see cref="TorrentOptions.RenamedFiles"/>). Throws <see cref="ArgumentException"/> for a path that is unsafe or
    /// that another file of the torrent holds, <see cref="IOException"/> (nothing renamed) when a file the torrent does
    /// not name is there already or the rename fails, <see cref="InvalidOperationException"/> while the file list is
    /// unknown (a magnet link) or when the bytes live in the embedder's <see cref="TorrentOptions.Storage"/>.
    /// </summary>
    public Task RenameFileAsync(int fileIndex, string newPath)
    {
        ArgumentNullException.ThrowIfNull(newPath);
        return _session.RenameAsync(_entry, (torrent, renamed) =>
        {
            if ((uint)fileIndex >= (uint)torrent.Files.Count) throw new ArgumentOutOfRangeException(nameof(fileIndex), $"the torrent has no file {fileIndex}");
            var after = renamed is null ? new Dictionary<int, string>() : new Dictionary<int, string>(renamed);
            after[fileIndex] = newPath;
            return after;
        });
    }

    /// <summary>
    /// Renames a folder of the torrent (<paramref name="folder"/>, as the files' paths show it: "Name" for the torrent's
    /// own folder, "Name/sub" below it) to <paramref name="newFolder"/>: every file under it moves, as
    /// <see cref="RenameFileAsync"/> does for one, and a file of the user's in that folder stays where it is (with its
    /// folder). Throws <see cref="ArgumentException"/> when no file of the torrent lies in <paramref name="folder"/>.
    /// </summary>
    public Task RenameFolderAsync(string folder, string newFolder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        ArgumentException.ThrowIfNullOrEmpty(newFolder);
        string prefix = folder.TrimEnd('/') + "/";
        string replacement = newFolder.TrimEnd('/') + "/";
        return _session.RenameAsync(_entry, (torrent, renamed) =>
        {
            var after = renamed is null ? new Dictionary<int, string>() : new Dictionary<int, string>(renamed);
            bool any = false;
            for (int i = 0; i < torrent.Files.Count; i++)
            {
                string path = renamed is not null && renamed.TryGetValue(i, out string? current) ? current : torrent.Files[i].Path;
                if (torrent.Files[i].IsPadding || !path.StartsWith(prefix, StringComparison.Ordinal)) continue;
                after[i] = replacement + path[prefix.Length..];
                any = true;
            }
            return any ? after : throw new ArgumentException($"no file of the torrent lies in '{folder}'", nameof(folder));
        });
    }

    /// <summary>The folder the torrent's data lives in now (<see cref="TorrentOptions.DownloadDirectory"/>, changed by <see cref="MoveStorageAsync"/>).</summary>
    public string DownloadDirectory => Actor.Options.DownloadDirectory;

    /// <summary>
    /// Moves the torrent's data (its files and partial pieces) to <paramref name="downloadDirectory"/> and continues from
    /// there without a recheck: the torrent stops meanwhile and starts again under this handle, paused if it was. A
    /// file already at the destination is never overwritten: the move then fails before anything moved, or, failing
    /// midway, puts back what moved; the torrent continues where it was and the <see cref="IOException"/> says why.
    /// Throws <see cref="InvalidOperationException"/> while a magnet link's metadata is unknown or when the bytes live
    /// in the embedder's <see cref="TorrentOptions.Storage"/>.
    /// </summary>
    public Task MoveStorageAsync(string downloadDirectory, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(downloadDirectory);
        return _session.MoveStorageAsync(_entry, downloadDirectory, cancellationToken);
    }
}
