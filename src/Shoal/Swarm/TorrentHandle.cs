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
}
