using System.Net;
using System.Threading.Channels;
using Shoal.Discovery;
using Shoal.Metainfo;
using Shoal.Picking;
using Shoal.Storage;
using Shoal.WebSeeds;
using Shoal.Wire;

namespace Shoal.Swarm;

/// <summary>
/// One torrent's single-threaded core: the loop and the dispatch. Everything that changes the torrent's protocol
/// state arrives as a <see cref="TorrentEvent"/> in one bounded mailbox and is handed, one event at a time, to the
/// small types that own each concern (<see cref="PeerAdmission"/>, <see cref="BlockRequester"/>,
/// <see cref="PeerAvailability"/>, <see cref="UploadRequests"/>, <see cref="Unchoker"/>, <see cref="SmartBan"/>,
/// <see cref="MetadataExchange"/>, <see cref="PexExchange"/>, <see cref="ResumeSaver"/>, <see cref="TorrentSnapshots"/>),
/// so none of them needs a lock. Handlers never block: disk work is queued and its results come back as events.
/// </summary>
internal sealed partial class TorrentActor : IThreadPoolWorkItem
{
    private const int MailboxCapacity = 8192;

    /// <summary>Events handled in one turn on a thread-pool thread before the actor queues itself again (others get a turn).</summary>
    private const int EventsPerTurn = 1024;

    private readonly TorrentContext _t;
    private readonly Func<Torrent, ITorrentDisk> _openStorage;
    private readonly TorrentMailbox _mailbox;
    private readonly PeerLoopContext _loopContext;
    private readonly RateLimiter _uploadLimit;
    private readonly RateLimiter _downloadLimit;
    private readonly CancellationTokenSource _stopping = new();
    private readonly PeerAdmission _admission;
    private readonly BlockRequester _requester;
    private readonly PeerAvailability _availability;
    private readonly UploadRequests _uploads;
    private readonly Unchoker _unchoker;
    private readonly SmartBan _smartBan;
    private readonly MetadataExchange _metadataExchange;
    private readonly PexExchange _pex;
    private readonly HolepunchExchange _holepunch;
    private readonly ExtensionMessages _extensions;
    private readonly ResumeSaver _resume;
    private readonly TorrentSnapshots _snapshots;
    private readonly TorrentCheck _check;
    private readonly DiskErrorPause _diskPause;
    private readonly HashExchange _hashes;
    private readonly WebSeedSources _webSeeds;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private long _lastTick;
    private bool _ticking;
    private bool _started;
    private bool _beginPending; // Start was called: the first turn begins the actor
    private bool _shuttingDown; // the loop's turns are over: ShutDownAsync reads what is left
    private TaskCompletionSource? _stopped; // made by whichever comes first, StopAsync or the shutdown's end
    private bool _awaitingLayers; // a v2 torrent from a magnet link: nothing can be verified before its piece layers arrive

    /// <summary>
    /// Creates the actor for a torrent whose metadata is known (<paramref name="torrent"/> and its opened
    /// <paramref name="storage"/>), or only its info-hash (a magnet link: both null, the info dictionary is then
    /// fetched from peers and <paramref name="openStorage"/> opens the files).
    /// </summary>
    public TorrentActor(SessionContext session, InfoHash infoHash, string displayName, Torrent? torrent, ITorrentDisk? storage,
        TorrentOptions options, Func<Torrent, ITorrentDisk> openStorage, Sha256Hash? infoHashV2 = null)
    {
        _t = new TorrentContext(session, infoHash, displayName, options, torrent) { Storage = storage, InfoHashV2 = torrent?.InfoHashV2 ?? infoHashV2 };
        storage?.Attach(new TorrentDiskEvents(this), session.Blocks);
        _openStorage = openStorage;
        _mailbox = new TorrentMailbox(MailboxCapacity, this);
        _uploadLimit = new RateLimiter(options.MaxUploadRate, session.Time);
        _downloadLimit = new RateLimiter(options.MaxDownloadRate, session.Time);
        _loopContext = new PeerLoopContext(_mailbox, session.Time, _uploadLimit, session.UploadLimit,
            _downloadLimit, session.DownloadLimit, session)
        {
            Blocks = session.Blocks,
        };
        _admission = new PeerAdmission(_t, this, _loopContext, _stopping.Token);
        _requester = new BlockRequester(_t);
        _availability = new PeerAvailability(_t, _requester);
        _uploads = new UploadRequests(_t);
        _unchoker = new Unchoker(_t);
        _smartBan = new SmartBan(_t, _admission.Ban);
        _metadataExchange = new MetadataExchange(infoHash, session.Time, _t.Log, session.PeerMemoryUnderPressure, _t.InfoHashV2);
        _pex = new PexExchange(session.Time, _t.StartedAt);
        _holepunch = new HolepunchExchange(_t, _admission);
        _extensions = new ExtensionMessages(_t, _metadataExchange, _pex, _holepunch, _admission);
        _resume = new ResumeSaver(_t);
        _snapshots = new TorrentSnapshots(_t, _admission);
        _check = new TorrentCheck(_t, _resume, _availability, this);
        _diskPause = new DiskErrorPause(_t, _requester);
        _hashes = new HashExchange(_t)
        {
            CorruptBlocksFound = _smartBan.OnCorruptBlocksKnown,
        };
        _webSeeds = new WebSeedSources(_t, _loopContext, _smartBan, _requester);
        _t.WebSeeds = _webSeeds;
        if (torrent is not null)
        {
            _metadataOutcome = Happened;
            _metadataExchange.SetKnown(torrent.InfoDictionary);
        }
        if (options.StartPaused)
        {
            // Nothing runs for a torrent added paused (no timer, no peers) until it is resumed; only its data may be
            // checked meanwhile, which the first status already says (a caller never sees it paused before the check).
            _t.UserPaused = true;
            _t.State = options.CheckWhilePaused && torrent is not null ? TorrentState.Checking : TorrentState.Suspended;
        }
        _snapshots.PublishStatus();
        foreach (IPEndPoint peer in options.Peers) _admission.AddCandidate(peer, PeerSource.Manual);
    }

    /// <summary>The metainfo; null until a magnet link's metadata has arrived.</summary>
    public Torrent? Torrent => _t.Torrent;

    public InfoHash InfoHash => _t.InfoHash;

    /// <summary>How the torrent was added (its download folder, limits, storage).</summary>
    public TorrentOptions Options => _t.Options;

    /// <summary>Every 20-byte hash the torrent is reached by: its wire hash, then a hybrid's truncated v2 hash.</summary>
    public IReadOnlyList<InfoHash> InfoHashes => _t.AlternateInfoHash is { } other ? [_t.InfoHash, other] : [_t.InfoHash];

    /// <summary>True when a handshake's <paramref name="hash"/> names this torrent.</summary>
    public bool IsKnownBy(InfoHash hash) => _t.IsKnownBy(hash);

    /// <summary>The torrent has a v2 info-hash (v2, hybrid, or a magnet with btmh): our handshake offers BEP 52's upgrade.</summary>
    public bool HasV2InfoHash => _t.InfoHashV2 is not null;

    /// <summary>The torrent's name (its display name until a magnet link's metadata arrives).</summary>
    public string Name => _t.Torrent?.Name ?? _t.DisplayName;

    /// <summary>The private flag (BEP 27): no PEX, LSD or DHT for such a torrent. False until the metadata is known.</summary>
    public bool IsPrivate => _t.IsPrivate;

    public Task Completion => _completion.Task;

    public TorrentStatus Status => _snapshots.Status;

    public IReadOnlyList<PeerStatus> PeerSnapshot => _snapshots.Peers;

    /// <summary>The latest snapshot of the torrent's web seeds.</summary>
    public IReadOnlyList<WebSeedStatus> WebSeedSnapshot => _webSeeds.Snapshot;

    /// <summary>Starts the actor: its first turn on the thread pool begins the check of existing data (or the metadata exchange), then it handles its events.</summary>
    public void Start()
    {
        _started = true;
        _beginPending = true;
        _mailbox.Start(runNow: true);
    }

    /// <summary>Posts an event without waiting; false when the mailbox is full or closed.</summary>
    public bool TryPost(in TorrentEvent item) => _mailbox.TryWrite(item);

    /// <summary>Posts an event that must not be lost, waiting for room when the mailbox is full; dropped only once the torrent has stopped.</summary>
    public async ValueTask PostAsync(TorrentEvent item)
    {
        if (TryPost(item)) return;
        try { await _mailbox.WriteAsync(item).ConfigureAwait(false); }
        catch (ChannelClosedException) { }
    }

    /// <summary>Queues addresses to dial; false when the mailbox is full (the addresses are then dropped).</summary>
    public bool AddPeers(IPEndPoint[] peers, PeerSource source, bool underAlternateHash = false)
    {
        // Peers found under a hybrid's other hash (its v2 swarm) may know only that hash: they are dialled with it.
        if (underAlternateHash) _t.NoteAlternateHashPeers(peers);
        return peers.Length == 0 || TryPost(new TorrentEvent { Kind = TorrentEventKind.AddPeers, Payload = peers, Source = source });
    }

    /// <summary>The info-hash to name in a handshake to <paramref name="endPoint"/>: a hybrid's v2 hash for a peer found in its v2 swarm.</summary>
    public InfoHash HashToDial(IPEndPoint endPoint) => _t.HashToDial(endPoint);

    /// <summary>Stops the torrent: closes its peers, drains its disk writes, closes its files.</summary>
    public async Task StopAsync()
    {
        if (!_stopping.IsCancellationRequested) _stopping.Cancel();
        if (!_started) return;
        // The turns do not watch the token while the mailbox is empty: this event queues one (when the mailbox is full
        // it fails, but then a turn is under way and checks the token after each event).
        TryPost(new TorrentEvent { Kind = TorrentEventKind.Stopping });
        await StoppedSignal().Task.ConfigureAwait(false);
    }

    private TaskCompletionSource StoppedSignal()
    {
        if (Volatile.Read(ref _stopped) is { } made) return made;
        Interlocked.CompareExchange(ref _stopped, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), null);
        return _stopped;
    }

    // ---- the loop -------------------------------------------------------------------------------------

    /// <summary>
    /// One turn on a thread-pool thread: handles what the mailbox holds, one event at a time, until it is empty (or after
    /// <see cref="EventsPerTurn"/> events, when the actor queues itself again), or until the torrent stops or fails.
    /// </summary>
    void IThreadPoolWorkItem.Execute()
    {
        if (_shuttingDown) return;
        try
        {
            if (_beginPending)
            {
                _beginPending = false;
                Begin();
                if (StopsNow(TorrentEventKind.Tick)) return;
            }
            int handled = 0;
            while (true)
            {
                while (_mailbox.TryRead(out TorrentEvent item))
                {
                    Handle(item);
                    if (StopsNow(item.Kind)) return;
                    if (++handled == EventsPerTurn)
                    {
                        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
                        return;
                    }
                }
                if (_mailbox.TryFinishDrain()) return;
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            BeginShutDown();
        }
        catch (Exception ex)
        {
            Fail(ex);
            BeginShutDown();
        }
    }

    /// <summary>After an event: true (and the shutdown under way) when the torrent failed or is stopping.</summary>
    private bool StopsNow(TorrentEventKind handled)
    {
        if (_t.State != TorrentState.Error && handled != TorrentEventKind.Stopping && !_stopping.IsCancellationRequested) return false;
        BeginShutDown();
        return true;
    }

    private void BeginShutDown()
    {
        if (_shuttingDown) return;
        _shuttingDown = true;
        _mailbox.Detach();
        _ = ShutDownAndSignalAsync();
    }

    private async Task ShutDownAndSignalAsync()
    {
        try
        {
            await ShutDownAsync().ConfigureAwait(false);
            StoppedSignal().TrySetResult();
        }
        catch (Exception ex)
        {
            _t.Log("stopping failed: " + ex.Message);
            StoppedSignal().TrySetException(ex);
        }
    }

    /// <summary>Arms the tick, then starts fetching the metadata (a magnet link) or checking the data.</summary>
    private void Begin()
    {
        if (_t.UserPaused)
        {
            // Added paused: nothing runs until Resume, but a check asked for now (a stopped torrent's verify) runs
            // without peers, announces or a timer, and the torrent stays paused when it ends (OnDataChecked).
            if (_t.Options.CheckWhilePaused && _t.Torrent is not null) StartCheck();
            return;
        }
        _lastTick = _t.Now();
        _ticking = true;
        _t.Session.Scheduler.Activate(this);
        if (_t.Torrent is null)
        {
            _t.State = TorrentState.FetchingMetadata;
            _snapshots.Publish();
            _admission.DialMore();
        }
        else
        {
            StartCheck();
        }
    }

    // A simulation (tests) drives the same loop one step at a time on its own thread, in virtual time: it begins the
    // actor, waits for the check job, then hands it whatever is in its mailbox whenever something happened.
    internal void BeginSimulated() => Begin();

    internal Task CheckCompletion => _check.Completion;

    internal int RunPending()
    {
        int handled = 0;
        while (_t.State != TorrentState.Error && _mailbox.TryRead(out TorrentEvent item))
        {
            Handle(item);
            handled++;
        }
        return handled;
    }

    /// <summary>
    /// The metadata is known: opens the data and starts checking it as a job. Peers keep being served meanwhile: they
    /// learn what is verified so far, and may download it.
    /// </summary>
    private void StartCheck()
    {
        _checkStarted = true;
        if (_t.Storage is null)
        {
            _t.Storage = _openStorage(_t.Torrent!);
            _t.Storage.Attach(new TorrentDiskEvents(this), _t.Session.Blocks);
        }
        // v2: piece layers (whole or in proved parts) learned in an earlier run come back with the resume data, each
        // proved against its root, before any peer is asked for them; the check then uses the same resume data.
        if (_hashes.LacksLayers) _resume.Preload(_t.Storage);
        if (_hashes.MustWaitForLayers)
        {
            // BEP 52: a magnet's info dictionary has only each file's root; the piece layers come from peers first.
            _awaitingLayers = true;
            _resume.AwaitingLayers = true;
            _t.State = _t.UserPaused ? _t.PausedState : TorrentState.FetchingMetadata;
            _t.Log("waiting for the piece layers (BEP 52 hashes) from peers");
            _hashes.OnTick(_t.Now());
            _snapshots.Publish();
            _admission.DialMore();
            return;
        }
        _awaitingLayers = false;
        _resume.AwaitingLayers = false;
        _check.Start(_stopping.Token);
        _loopContext.SetTorrentData(_t.Torrent!.PieceCount, _t.Storage);
        _snapshots.Publish();
        _admission.DialMore();
    }

    /// <summary>The check ended: the torrent downloads what is missing, or seeds (seed only: whatever is here).</summary>
    private void OnDataChecked(CheckOutcome outcome)
    {
        _check.Finish(outcome);
        _files = new FileCompletion(_t.Torrent!, _t.Have);
        foreach (RangeWaiter waiter in _waiters) SetDeadlines(waiter.First, waiter.Last);
        bool complete = _t.Picker!.IsComplete;
        // Seed only: whatever is missing stays missing; the rest is uploaded (never interested, never requesting).
        _t.State = _t.UserPaused ? _t.PausedState : complete || _t.Options.SeedOnly ? TorrentState.Seeding : TorrentState.Downloading;
        foreach (PeerConnection peer in _t.Peers.All.ToArray()) _availability.JoinPeerToPieces(peer);
        _webSeeds.Start();
        if (complete) EnterSeeding();
        else if (_t.Options.SeedOnly) _t.Log($"seed only: {_t.Have.SetCount} of {_t.Have.Length} pieces are here; uploading those, downloading nothing");
        else _webSeeds.FillSlots();
        // Checked while paused: what it found is saved now and the files closed, as for any pause.
        if (_t.UserPaused) _resume.SaveAndRelease();
        _snapshots.Publish();
        Settle(ref _checked, ref _checkedOutcome, Happened);
        _admission.DialMore();
    }

    private async Task ShutDownAsync()
    {
        // The resume saver decides what may be saved: a full snapshot after the check, the trees alone while layers are awaited.
        bool saveResume = _t.Storage is not null && _t.State != TorrentState.Error;
        _t.Session.Scheduler.Remove(this);
        if (!_stopping.IsCancellationRequested) _stopping.Cancel();
        await _check.Completion.ConfigureAwait(false);
        if (_t.State != TorrentState.Error) _t.State = TorrentState.Stopped;
        AbandonWaiters();
        _t.Peers.CloseAll("torrent stopped");
        if (!_stopping.IsCancellationRequested) _stopping.Cancel();

        // Peer loops post PeerClosed on the way out (web seed runs their end); keep draining so none of them waits on a full mailbox.
        Task peersDone = Task.WhenAll(_t.Peers.AllStopped(), _webSeeds.StopAsync());
        while (!peersDone.IsCompleted)
        {
            await DiscardMailboxAsync().ConfigureAwait(false);
            await Task.WhenAny(peersDone, _mailbox.WaitToReadAsync()).ConfigureAwait(false);
        }
        _mailbox.TryComplete();
        await DiscardMailboxAsync().ConfigureAwait(false);
        if (_t.Storage is { } storage)
        {
            await storage.StopWritesAsync().ConfigureAwait(false);
            try { await storage.FlushAsync().ConfigureAwait(false); } catch (Exception ex) { _t.Log("flush failed: " + ex.Message); }
            // A clean stop leaves resume data that vouches for everything verified, so the next start hashes nothing.
            await _resume.FinishAsync(saveResume).ConfigureAwait(false);
            await storage.DisposeAsync().ConfigureAwait(false);
        }
        _t.Peers.Clear();
        _snapshots.Publish();
        _completion.TrySetCanceled();
        SettleMetadata(Cancelled);
        Settle(ref _downloadFinished, ref _downloadFinishedOutcome, Cancelled);
        Settle(ref _checked, ref _checkedOutcome, Cancelled);
        _stopping.Dispose();
    }

    /// <summary>Empties the mailbox during shutdown, giving back what its events hold (buffers, connections, slots).</summary>
    private async Task DiscardMailboxAsync()
    {
        while (_mailbox.TryRead(out TorrentEvent item))
        {
            if (item.Buffer is not null) _t.Session.Blocks.Return(item.Buffer);
            if (item.Kind == TorrentEventKind.Message && item.Payload is byte[] received) item.Peer!.ReleaseUnhandled(received.Length);
            if (item.Kind == TorrentEventKind.PeerJoined && item.Payload is PendingPeer pending) await _admission.DropAsync(pending).ConfigureAwait(false);
            if (item.Kind == TorrentEventKind.DialFailed) _t.Session.ReleaseConnection();
            if (item.Kind == TorrentEventKind.PieceMapRequest) ((TaskCompletionSource<PieceMap>)item.Payload!).TrySetCanceled();
            if (item.Kind == TorrentEventKind.Control) ((TorrentControl)item.Payload!).Abandon();
        }
    }

    // ---- the dispatch: everything a torrent reacts to -------------------------------------------------

    private void Handle(in TorrentEvent item)
    {
        Dispatch(item);
        if (item.Kind != TorrentEventKind.Message) UpdateScheduling(atTick: item.Kind == TorrentEventKind.Tick);
    }

    private void Dispatch(in TorrentEvent item)
    {
        switch (item.Kind)
        {
            case TorrentEventKind.Message:
                if (item.Peer is { } peer && _t.Peers.Contains(peer)) OnMessage(peer, item);
                else if (item.Buffer is not null) _t.Session.Blocks.Return(item.Buffer);
                // The receive loop counted the payload against the peer's and the session's memory until now.
                if (item.Payload is byte[] received) item.Peer!.ReleaseUnhandled(received.Length);
                break;
            case TorrentEventKind.PeerJoined:
                if (_admission.Admit((PendingPeer)item.Payload!) is { } joined)
                {
                    Greet(joined);
                    _snapshots.Publish();
                }
                break;
            case TorrentEventKind.PeerClosed:
                OnPeerClosed(item.Peer!, item.Error);
                break;
            case TorrentEventKind.DialFailed:
                _admission.OnDialFailed((IPEndPoint)item.Payload!, item.Error);
                _holepunch.OnDialFailed((IPEndPoint)item.Payload!);
                // With no peer the torrent is not ticked: the status's peer search (addresses tried, the last failure)
                // changes here and nowhere else (a dial that fails slowly, uTP's SYN going unanswered, came after the
                // last snapshot).
                if (_t.Peers.Count == 0) _snapshots.PublishStatus();
                break;
            case TorrentEventKind.PieceHashed:
                OnPieceHashed(item.Index, item.WriteResult);
                break;
            case TorrentEventKind.DiskFailed:
                OnDiskFailed(item.Index, item.Error!);
                break;
            case TorrentEventKind.Tick:
                OnTick();
                break;
            case TorrentEventKind.WritesDrained:
                _requester.RequestFromAll();
                _webSeeds.FillSlots();
                break;
            case TorrentEventKind.WebSeedBlock:
                _webSeeds.OnBlock(item);
                break;
            case TorrentEventKind.WebSeedJobEnded:
                _webSeeds.OnJobEnded(item);
                break;
            case TorrentEventKind.CheckProgress:
                _check.OnProgress((PieceCheckProgress)item.Payload!);
                _snapshots.PublishStatus();
                break;
            case TorrentEventKind.CheckFinished:
                if (item.Error is { } checkError) Fail(checkError);
                else OnDataChecked((CheckOutcome)item.Payload!);
                break;
            case TorrentEventKind.Control:
                ((TorrentControl)item.Payload!).Run();
                break;
            case TorrentEventKind.AddPeers:
                foreach (IPEndPoint endPoint in (IPEndPoint[])item.Payload!) _admission.AddCandidate(endPoint, item.Source);
                _admission.DialMore();
                break;
            case TorrentEventKind.PieceMapRequest:
                ((TaskCompletionSource<PieceMap>)item.Payload!).TrySetResult(BuildPieceMap());
                break;
        }
    }

    /// <summary>A copy of the verified pieces and the pieces in flight (asked for by a details view, never per block).</summary>
    private PieceMap BuildPieceMap()
        => new(_t.Have.Length, _t.Have.Bytes.ToArray(), _t.Picker?.PartialPieceIndices() ?? []);

    /// <summary>Asks the actor for its piece map; null when the torrent is stopping or its mailbox is full.</summary>
    public Task<PieceMap>? RequestPieceMap()
    {
        var answer = new TaskCompletionSource<PieceMap>(TaskCreationOptions.RunContinuationsAsynchronously);
        return TryPost(new TorrentEvent { Kind = TorrentEventKind.PieceMapRequest, Payload = answer }) ? answer.Task : null;
    }

    /// <summary>A magnet link's metadata arrived whole: the torrent is known, its data is checked next.</summary>
    private void OnMetadataComplete(Torrent torrent)
    {
        _t.Torrent = torrent;
        _t.Have = new BitField(torrent.PieceCount);
        SettleMetadata(Happened);
        Emit(SessionEventKind.MetadataReceived);
        _t.Log($"metadata received: {torrent.Name}, {torrent.TotalSize} bytes in {torrent.PieceCount} pieces");
        foreach (PeerConnection peer in _t.Peers.All) peer.Metadata.RequestedPiece = null;
        StartCheck();
    }

    private void EnterSeeding()
    {
        bool wasDownloading = _t.State == TorrentState.Downloading;
        _t.State = _t.UserPaused ? _t.PausedState : TorrentState.Seeding;
        if (wasDownloading) _t.Log("download complete; seeding");
        // The snapshot first (status and peer list): whoever the signals wake (the trackers' "completed" announce, a
        // caller awaiting Completion) reads left=0, the final downloaded count and the peers that took part (seeds
        // among them are closed just after), not those of the last tick.
        _snapshots.Publish();
        _webSeeds.StopDownloading();
        // Complete means the files are as the torrent describes them, executable bits and links included: whoever
        // waits for completion (--exit-when-done) is woken after they are applied (at once when there are none).
        Task finished = CompletedFiles.ApplyAsync(_t, _stopping.Token);
        bool filesReady = finished.IsCompleted;
        if (filesReady && wasDownloading)
        {
            Settle(ref _downloadFinished, ref _downloadFinishedOutcome, Happened);
            Emit(SessionEventKind.Finished);
        }
        foreach (PeerConnection peer in _t.Peers.All)
        {
            _requester.StopDownloading(peer);
            _availability.CloseIfBothSeeds(peer);
        }
        if (filesReady) _completion.TrySetResult();
        else finished.ContinueWith(_ => SignalComplete(wasDownloading), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
    }

    /// <summary>Wakes whoever waits for completion; may run off the actor's loop (after the disk pool applied the attributes).</summary>
    private void SignalComplete(bool wasDownloading)
    {
        if (wasDownloading)
        {
            Settle(ref _downloadFinished, ref _downloadFinishedOutcome, Happened);
            Emit(SessionEventKind.Finished);
        }
        _completion.TrySetResult();
    }

    private void Fail(Exception error)
    {
        _t.Error = error is StorageException storage ? storage.Message : error.Message;
        _t.State = TorrentState.Error;
        _t.Log("stopped on error: " + _t.Error);
        _snapshots.PublishStatus();
        Emit(SessionEventKind.Error, _t.Error);
        _completion.TrySetException(new IOException(_t.Error, error));
    }

    /// <summary>What PEX says of a peer besides seed and reachable: uTP (its connection is uTP) and ut_holepunch support.</summary>
    private static PexFlags PexTransportFlags(PeerConnection peer) =>
        (peer.Protocol == Transport.TransportProtocol.Utp ? PexFlags.SupportsUtp : PexFlags.None)
        | (peer.Extensions?.Supports(HolepunchMessage.ExtensionName) == true ? PexFlags.Holepunch : PexFlags.None);

    /// <summary>
    /// Keeps the torrent on the session's tick list only while it has periodic work: connected peers (keep-alives,
    /// timeouts, choking, rates, PEX) or a paused download to retry. Otherwise it is ticked once when a candidate's
    /// back-off or a resume save comes due, and costs nothing in between.
    /// </summary>
    private void UpdateScheduling(bool atTick)
    {
        if (_t.State is TorrentState.Stopped or TorrentState.Error) return;
        if (_t.Peers.Count > 0 || _t.State == TorrentState.Paused || _webSeeds.IsFetching)
        {
            if (_ticking) return;
            _ticking = true;
            _lastTick = _t.Now();
            _t.Session.Scheduler.Activate(this);
            return;
        }
        if (_ticking)
        {
            // Stop at a tick, not as the last peer leaves: the tick refreshes the snapshots half a second later at
            // most, as for any change, and then the torrent leaves the list.
            if (!atTick) return;
            _ticking = false;
            _snapshots.OnIdle(); // nobody to measure: the rates are zero from now on
        }
        long now = _t.Now();
        long? wake = _t.AcceptsPeers ? _t.PeerList.NextAttempt() : null;
        if (_resume.NextSaveDue(now) is long save && (wake is null || save < wake)) wake = save;
        if (_webSeeds.NextRetry() is long retry && (wake is null || retry < wake)) wake = retry;
        if (wake is long due) wake = Math.Max(due, now + (long)(SessionScheduler.TickInterval.TotalSeconds * _t.Time.TimestampFrequency));
        _t.Session.Scheduler.Deactivate(this, wake);
        _mailbox.Trim();
    }

    private void OnTick()
    {
        long now = _t.Now();
        TimeSpan elapsed = _t.Time.GetElapsedTime(_lastTick, now);
        _lastTick = now;
        long uploaded = _t.UploadedByClosedPeers;
        foreach (PeerConnection peer in _t.Peers.All)
        {
            peer.DownloadMeter.Sample(peer.Downloaded, elapsed);
            peer.UploadMeter.Sample(peer.Uploaded, elapsed);
            uploaded += peer.Uploaded;
            _unchoker.NoteProgress(peer, now);
            if (!PeerTimeouts.Check(peer, _t.Time, now)) continue;
            _requester.CheckSnub(peer, now);
            _metadataExchange.OnTick(peer, now);
            _requester.RequestMore(peer);
        }
        if (!_t.IsPrivate && _t.Session.Options.EnablePex) _pex.SendUpdates(_t.Peers.All, peer => _t.Picker is not null && peer.Has.AllSet, PexTransportFlags);
        _snapshots.SampleRates(uploaded, elapsed);
        _webSeeds.OnTick(elapsed);
        _unchoker.OnTick(now);
        _hashes.OnTick(now);
        _diskPause.OnTick(now);
        _admission.DialMore();
        _resume.MaybeSave(now);
        _t.Session.PeerMemory.TrimIdleBuffers(now);
        _snapshots.Publish();
    }

}
