using System.Net;
using System.Threading.Channels;
using Shoal.Discovery;
using Shoal.Metainfo;
using Shoal.Picking;
using Shoal.Storage;
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
internal sealed class TorrentActor
{
    private const int MailboxCapacity = 8192;
    private static readonly TimeSpan TickInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>How long a torrent paused by a disk error waits before it tries writing again.</summary>
    private static readonly TimeSpan DiskRetryInterval = TimeSpan.FromSeconds(10);

    private readonly TorrentContext _t;
    private readonly Func<Torrent, ITorrentDisk> _openStorage;
    private readonly Channel<TorrentEvent> _mailbox;
    private readonly PeerLoopContext _loopContext;
    private readonly CancellationTokenSource _stopping = new();
    private readonly PeerAdmission _admission;
    private readonly BlockRequester _requester;
    private readonly PeerAvailability _availability;
    private readonly UploadRequests _uploads;
    private readonly Unchoker _unchoker;
    private readonly SmartBan _smartBan;
    private readonly MetadataExchange _metadataExchange;
    private readonly PexExchange _pex;
    private readonly ResumeSaver _resume;
    private readonly TorrentSnapshots _snapshots;
    private readonly TorrentCheck _check;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<Torrent> _metadata = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _downloadFinished = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ITimer? _timer;
    private long _lastTick;
    private long _diskPausedAt;
    private Task? _run;

    /// <summary>
    /// Creates the actor for a torrent whose metadata is known (<paramref name="torrent"/> and its opened
    /// <paramref name="storage"/>), or only its info-hash (a magnet link: both null, the info dictionary is then
    /// fetched from peers and <paramref name="openStorage"/> opens the files).
    /// </summary>
    public TorrentActor(SessionContext session, InfoHash infoHash, string displayName, Torrent? torrent, ITorrentDisk? storage,
        TorrentOptions options, Func<Torrent, ITorrentDisk> openStorage)
    {
        _t = new TorrentContext(session, infoHash, displayName, options, torrent) { Storage = storage };
        storage?.Attach(new DiskEvents(this), session.Blocks);
        _openStorage = openStorage;
        _mailbox = Channel.CreateBounded<TorrentEvent>(new BoundedChannelOptions(MailboxCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _loopContext = new PeerLoopContext(_mailbox.Writer, session.Time, new RateLimiter(options.MaxUploadRate, session.Time), session.UploadLimit,
            new RateLimiter(options.MaxDownloadRate, session.Time), session.DownloadLimit, session.ReleaseConnection)
        {
            Blocks = session.Blocks,
        };
        _admission = new PeerAdmission(_t, this, _loopContext, _stopping.Token);
        _requester = new BlockRequester(_t, () => _t.Storage!.IsBacklogged);
        _availability = new PeerAvailability(_t, _requester);
        _uploads = new UploadRequests(_t);
        _unchoker = new Unchoker(_t);
        _smartBan = new SmartBan(_t, _admission.Ban);
        _metadataExchange = new MetadataExchange(infoHash, session.Time, _t.Log);
        _pex = new PexExchange(session.Time, _t.StartedAt);
        _resume = new ResumeSaver(_t);
        _snapshots = new TorrentSnapshots(_t);
        _check = new TorrentCheck(_t, _resume, this);
        if (torrent is not null)
        {
            _metadata.TrySetResult(torrent);
            _metadataExchange.SetKnown(torrent.InfoDictionary);
        }
        _snapshots.PublishStatus();
        foreach (IPEndPoint peer in options.Peers) _t.PeerList.Add(peer, PeerSource.Manual);
    }

    /// <summary>The metainfo; null until a magnet link's metadata has arrived.</summary>
    public Torrent? Torrent => _t.Torrent;

    public InfoHash InfoHash => _t.InfoHash;

    /// <summary>The private flag (BEP 27): no PEX, LSD or DHT for such a torrent. False until the metadata is known.</summary>
    public bool IsPrivate => _t.IsPrivate;

    public Task Completion => _completion.Task;

    /// <summary>Completes when a download finishes in this run (never, for a torrent that started complete).</summary>
    public Task DownloadFinished => _downloadFinished.Task;

    /// <summary>Completes with the torrent once its metadata is known (at once for a .torrent).</summary>
    public Task<Torrent> Metadata => _metadata.Task;

    public TorrentStatus Status => _snapshots.Status;

    public IReadOnlyList<PeerStatus> PeerSnapshot => _snapshots.Peers;

    /// <summary>Starts the actor: runs the event loop, and the check of existing data (or the metadata exchange) beside it.</summary>
    public void Start() => _run = Task.Run(RunAsync);

    /// <summary>Posts an event without waiting; false when the mailbox is full or closed.</summary>
    public bool TryPost(in TorrentEvent item) => _mailbox.Writer.TryWrite(item);

    /// <summary>Posts an event that must not be lost, waiting for room when the mailbox is full; dropped only once the torrent has stopped.</summary>
    public async ValueTask PostAsync(TorrentEvent item)
    {
        if (TryPost(item)) return;
        try { await _mailbox.Writer.WriteAsync(item).ConfigureAwait(false); }
        catch (ChannelClosedException) { }
    }

    /// <summary>Queues addresses to dial; false when the mailbox is full (the addresses are then dropped).</summary>
    public bool AddPeers(IPEndPoint[] peers, PeerSource source)
        => peers.Length == 0 || TryPost(new TorrentEvent { Kind = TorrentEventKind.AddPeers, Payload = peers, Source = source });

    /// <summary>Stops the torrent: closes its peers, drains its disk writes, closes its files.</summary>
    public async Task StopAsync()
    {
        if (!_stopping.IsCancellationRequested) _stopping.Cancel();
        if (_run is not null) await _run.ConfigureAwait(false);
    }

    // ---- the loop -------------------------------------------------------------------------------------

    private async Task RunAsync()
    {
        CancellationToken stop = _stopping.Token;
        try
        {
            _lastTick = _t.Now();
            _timer = _t.Time.CreateTimer(_ => TryPost(new TorrentEvent { Kind = TorrentEventKind.Tick }), null, TickInterval, TickInterval);
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
            await RunEventsAsync(stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            Fail(ex);
        }
        finally
        {
            await ShutDownAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Handles events one at a time until the torrent stops or fails.</summary>
    private async Task RunEventsAsync(CancellationToken stop)
    {
        ChannelReader<TorrentEvent> reader = _mailbox.Reader;
        // The wait takes no token: a channel reuses one wait object only for uncancellable waits, and the actor
        // waits once per burst of events, thousands of times a second. Stopping posts an event instead; when the
        // mailbox is full that post fails, but then the actor is busy and checks the token after the batch.
        using CancellationTokenRegistration wake = stop.Register(
            static actor => ((TorrentActor)actor!).TryPost(new TorrentEvent { Kind = TorrentEventKind.Stopping }), this);
        while (await reader.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
        {
            while (reader.TryRead(out TorrentEvent item))
            {
                Handle(item);
                if (_t.State == TorrentState.Error) return;
                if (item.Kind == TorrentEventKind.Stopping) break;
            }
            stop.ThrowIfCancellationRequested();
        }
    }

    /// <summary>
    /// The metadata is known: opens the data and starts checking it as a job. Peers keep being served meanwhile: they
    /// learn what is verified so far, and may download it.
    /// </summary>
    private void StartCheck()
    {
        Torrent torrent = _t.Torrent!;
        _t.State = TorrentState.Checking;
        if (_t.Storage is null)
        {
            _t.Storage = _openStorage(torrent);
            _t.Storage.Attach(new DiskEvents(this), _t.Session.Blocks);
        }
        PiecePriorities priorities = PiecePriorities.For(torrent);
        if (ShoalSession.SkippedFiles(torrent, _t.Options.SelectedFiles) is { } skipped)
        {
            foreach (int f in skipped) priorities.SetFilePriority(f, FilePriority.Skip);
            _t.Log($"downloading {torrent.Files.Count - skipped.Count} of {torrent.Files.Count} files ({priorities.WantedBytes} bytes)");
        }
        _t.Priorities = priorities;
        _loopContext.SetTorrentData(torrent.PieceCount, _t.Storage);
        _snapshots.Publish();
        _check.Start(_stopping.Token);
        _admission.DialMore();
    }

    /// <summary>A batch of the check is done: its verified pieces are ours to announce and serve from now on.</summary>
    private void OnCheckProgress(PieceCheckProgress progress)
    {
        if (_t.State != TorrentState.Checking) return;
        Interlocked.Exchange(ref _t.CheckedPieces, progress.Checked);
        for (int i = 0; i < progress.Verified.Length; i++)
            if (progress.Verified[i]) OnPieceChecked(progress.First + i);
    }

    private void OnPieceChecked(int piece)
    {
        if (_t.Have[piece]) return;
        _t.Have[piece] = true;
        if (_t.IsWanted(piece)) _t.VerifiedBytes += _t.Torrent!.GetPieceSize(piece);
        if (!_t.IsShareable(piece)) return;
        foreach (PeerConnection peer in _t.Peers.All)
            if (peer.Has.Length == _t.Have.Length) peer.Send(new OutboundMessage(MessageId.Have, piece)); // the others get it all once they are sized
    }

    /// <summary>The check ended: the picker starts from what it found, and the torrent downloads or seeds.</summary>
    private void OnCheckFinished(CheckOutcome outcome)
    {
        Torrent torrent = _t.Torrent!;
        foreach (int i in outcome.Verified.SetBits) OnPieceChecked(i); // batches the mailbox had no room for
        Interlocked.Exchange(ref _t.CheckedPieces, torrent.PieceCount);
        _resume.OnChecked(outcome.UsedResume);
        _t.Picker = new PiecePicker(torrent.PieceCount, torrent.PieceLength, torrent.TotalSize, _t.Have, _t.Random);
        if (!_t.Priorities!.AllWanted)
        {
            for (int p = 0; p < torrent.PieceCount; p++)
                if (!_t.Priorities.IsWanted(p)) _t.Picker.SetPieceWanted(p, false);
        }
        _t.Log($"checked: {_t.Have.SetCount}/{_t.Have.Length} pieces present");

        bool complete = _t.Picker.IsComplete;
        _t.State = complete ? TorrentState.Seeding : TorrentState.Downloading;
        foreach (PeerConnection peer in _t.Peers.All.ToArray()) _availability.JoinPeerToPieces(peer);
        if (complete) EnterSeeding();
        _snapshots.Publish();
        _admission.DialMore();
    }

    private async Task ShutDownAsync()
    {
        bool saveResume = _t.Storage is not null && _t.Picker is not null && _t.State != TorrentState.Error;
        if (_timer is not null) await _timer.DisposeAsync().ConfigureAwait(false);
        if (!_stopping.IsCancellationRequested) _stopping.Cancel();
        await _check.Completion.ConfigureAwait(false);
        if (_t.State != TorrentState.Error) _t.State = TorrentState.Stopped;
        _t.Peers.CloseAll("torrent stopped");
        if (!_stopping.IsCancellationRequested) _stopping.Cancel();

        // Peer loops post PeerClosed on the way out; keep draining so none of them waits on a full mailbox.
        Task peersDone = _t.Peers.AllStopped();
        while (!peersDone.IsCompleted)
        {
            await DiscardMailboxAsync().ConfigureAwait(false);
            await Task.WhenAny(peersDone, _mailbox.Reader.WaitToReadAsync().AsTask()).ConfigureAwait(false);
        }
        _mailbox.Writer.TryComplete();
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
        _metadata.TrySetCanceled();
        _downloadFinished.TrySetCanceled();
        _stopping.Dispose();
    }

    /// <summary>Empties the mailbox during shutdown, giving back what its events hold (buffers, connections, slots).</summary>
    private async Task DiscardMailboxAsync()
    {
        while (_mailbox.Reader.TryRead(out TorrentEvent item))
        {
            if (item.Buffer is not null) _t.Session.Blocks.Return(item.Buffer);
            if (item.Kind == TorrentEventKind.PeerJoined && item.Payload is PendingPeer pending) await _admission.DropAsync(pending).ConfigureAwait(false);
            if (item.Kind == TorrentEventKind.DialFailed) _t.Session.ReleaseConnection();
        }
    }

    // ---- the dispatch: everything a torrent reacts to -------------------------------------------------

    private void Handle(in TorrentEvent item)
    {
        switch (item.Kind)
        {
            case TorrentEventKind.Message:
                if (item.Peer is { } peer && _t.Peers.Contains(peer)) OnMessage(peer, item);
                else if (item.Buffer is not null) _t.Session.Blocks.Return(item.Buffer);
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
                break;
            case TorrentEventKind.CheckProgress:
                OnCheckProgress((PieceCheckProgress)item.Payload!);
                break;
            case TorrentEventKind.CheckFinished:
                if (item.Error is { } checkError) Fail(checkError);
                else OnCheckFinished((CheckOutcome)item.Payload!);
                break;
            case TorrentEventKind.AddPeers:
                foreach (IPEndPoint endPoint in (IPEndPoint[])item.Payload!) _t.PeerList.Add(endPoint, item.Source);
                _admission.DialMore();
                break;
        }
    }

    private void OnMessage(PeerConnection peer, in TorrentEvent item)
    {
        switch (item.MessageId)
        {
            case MessageId.Piece: OnBlock(peer, new BlockRequest(item.Index, item.Begin, item.Length), item.Buffer!); break;
            case MessageId.Request: _uploads.OnRequest(peer, item.Index, item.Begin, item.Length); break;
            case MessageId.Have: _availability.OnHave(peer, item.Index); break;
            case MessageId.Bitfield:
            case MessageId.HaveAll:
            case MessageId.HaveNone: _availability.OnAnnouncement(peer, item.MessageId, item.Payload as byte[]); break;
            case MessageId.Choke: _requester.OnChoke(peer); break;
            case MessageId.Unchoke: _requester.OnUnchoke(peer); break;
            case MessageId.Interested: _unchoker.OnInterested(peer); break;
            case MessageId.NotInterested: _unchoker.OnNotInterested(peer); break;
            case MessageId.Reject:
                if (RequireFast(peer, "reject")) _requester.OnReject(peer, new BlockRequest(item.Index, item.Begin, item.Length));
                break;
            case MessageId.AllowedFast:
                if (RequireFast(peer, "allowed fast")) _requester.OnAllowedFast(peer, item.Index);
                break;
            case MessageId.Suggest: RequireFast(peer, "suggest"); break;
            case MessageId.Cancel:
                // Serving a cancelled block anyway is allowed (BEP 3, and BEP 6 accepts the piece as the answer);
                // the send loop does not search its queue, which keeps it lock-free.
                break;
            case MessageId.Extended: OnExtended(peer, (byte)item.Index, (byte[])item.Payload!); break;
            case MessageId.Port:
                // BEP 5: a peer's DHT node is a node worth knowing; the DHT pings it before trusting it.
                if (item.Index > 0 && !_t.IsPrivate) _t.Session.Dht?.AddNode(new IPEndPoint(peer.EndPoint.Address, item.Index));
                break;
        }
    }

    private void OnExtended(PeerConnection peer, byte id, byte[] payload)
    {
        if (!peer.SupportsExtensions)
        {
            peer.Close("sent an extended message without the extension protocol bit");
            return;
        }
        try
        {
            switch (id)
            {
                case ExtensionIds.Handshake:
                    ExtensionHandshake handshake;
                    try
                    {
                        handshake = ExtensionHandshake.Parse(payload);
                    }
                    catch (ShoalFormatException ex)
                    {
                        // Ignored, as libtorrent does: the peer simply gets no extensions from us.
                        _t.Log($"peer {peer.EndPoint}: extension handshake ignored: {ex.Message}");
                        break;
                    }
                    peer.Extensions = peer.Extensions is null ? handshake : peer.Extensions.MergeWith(handshake);
                    if (peer.Incoming && peer.ListenEndPoint is { } listen) _t.PeerList.AddConnected(listen, PeerSource.Incoming, _t.Now());
                    _metadataExchange.OnHandshake(peer, handshake);
                    break;
                case ExtensionIds.Metadata:
                    MetadataOutcome outcome = _metadataExchange.OnMessage(peer, MetadataMessage.Parse(payload));
                    if (outcome == MetadataOutcome.Completed) OnMetadataComplete(_metadataExchange.InfoDictionary);
                    else if (outcome == MetadataOutcome.HashMismatch) PunishMetadataContributors(_metadataExchange.LastFailureContributors);
                    break;
                case ExtensionIds.Pex:
                    PexMessage pex = PexMessage.Parse(payload);
                    if (_t.IsPrivate) break;
                    foreach (PexPeer added in _pex.OnMessage(peer, pex)) _t.PeerList.Add(added.EndPoint, PeerSource.Pex);
                    break;
                default:
                    // An id we never advertised: BEP 10 asks to ignore it.
                    break;
            }
        }
        catch (ShoalFormatException ex)
        {
            peer.Close("bad extension message: " + ex.Message);
        }
    }

    private static bool RequireFast(PeerConnection peer, string what)
    {
        if (peer.SupportsFast) return true;
        peer.Close($"sent {what} without the fast extension");
        return false;
    }

    // ---- reactions that involve several parts ---------------------------------------------------------

    /// <summary>A peer was admitted: it learns what we have, our extensions and our DHT port.</summary>
    private void Greet(PeerConnection peer)
    {
        _availability.Greet(peer);
        if (peer.SupportsExtensions)
        {
            ExtensionHandshake local = ExtensionHandshake.CreateLocal(_t.Session.ListenPort, _t.Session.Options.ClientName,
                _t.Torrent?.InfoDictionary.Length, peer.EndPoint.Address, UploadRequests.MaxQueuedPerPeer);
            // BEP 27: a private torrent's peers come from its tracker only, so PEX is not offered.
            if (_t.IsPrivate) local = local with { Extensions = new Dictionary<string, byte> { [ExtensionIds.MetadataName] = ExtensionIds.Metadata } };
            peer.SendExtended(ExtensionIds.Handshake, local.Encode());
        }
        if (peer.SupportsDht && _t.Session.Dht?.LocalEndPoint is { } dht) peer.Send(new OutboundMessage(MessageId.Port, dht.Port));
    }

    private void OnPeerClosed(PeerConnection peer, Exception? error)
    {
        if (!_admission.OnClosed(peer, error)) return;
        _requester.OnPeerGone(peer);
        _metadataExchange.OnPeerGone(peer.Key);
        _unchoker.OnPeerGone(peer);
        // Who is connected changed: the peer list a caller reads must not show a peer that is gone.
        _snapshots.Publish();
        _admission.DialMore();
    }

    private void OnBlock(PeerConnection peer, BlockRequest block, byte[] buffer)
    {
        if (_requester.OnBlock(peer, block))
        {
            _smartBan.RecordSender(block, peer);
            _t.Storage!.EnqueueWrite(block.Piece, block.Offset, buffer, block.Length);
        }
        else
        {
            _t.Session.Blocks.Return(buffer);
        }
        _requester.RequestMore(peer);
    }

    private void OnPieceHashed(int piece, BlockWriteResult result)
    {
        if (result == BlockWriteResult.PieceVerified)
        {
            _smartBan.OnPieceVerified(piece);
            if (_t.Have[piece]) return;
            _t.Have[piece] = true;
            if (_t.IsWanted(piece)) _t.VerifiedBytes += _t.Torrent!.GetPieceSize(piece);
            _t.Picker!.OnPieceVerified(piece);
            _availability.OnPieceVerified(piece);
            if (_t.Picker.IsComplete) EnterSeeding();
            return;
        }
        _t.FailedPieces++;
        _t.Picker!.OnPieceFailed(piece);
        _t.Log($"piece {piece} failed its hash check; fetching it again");
        _smartBan.OnPieceFailed(piece);
    }

    /// <summary>
    /// A write failed. Transient storage errors (disk full, a vanished file) pause the download and retry later;
    /// the piece whose blocks were dropped is fetched again. A permanent one (read-only folder, access denied, a
    /// name too long) stops the torrent with that error: retrying cannot help. Anything else is a bug: the torrent
    /// stops with the error rather than guessing.
    /// </summary>
    private void OnDiskFailed(int piece, Exception error)
    {
        if (error is not StorageException storage || storage.IsPermanent)
        {
            Fail(error);
            return;
        }
        if (!_t.Have[piece]) _t.Picker?.OnPieceFailed(piece);
        _smartBan.Forget(piece);
        if (_t.State == TorrentState.Paused) return;
        _t.State = TorrentState.Paused;
        _t.Error = storage.Message;
        _diskPausedAt = _t.Now();
        // Blocks in flight would only fail the same way: let them go and ask again after the pause.
        foreach (PeerConnection peer in _t.Peers.All) _requester.CancelAll(peer);
        _t.Log($"paused: {storage.Message}; retrying every {DiskRetryInterval.TotalSeconds:0} s");
        _snapshots.Publish();
    }

    private void ResumeAfterDiskPause(long now)
    {
        if (_t.State != TorrentState.Paused || _t.Time.GetElapsedTime(_diskPausedAt, now) < DiskRetryInterval) return;
        _t.State = TorrentState.Downloading;
        _t.Error = null;
        _t.Log("retrying after the disk error");
        foreach (PeerConnection peer in _t.Peers.All)
        {
            _requester.UpdateInterest(peer); // peers that joined during the pause were never told we want their pieces
            _requester.RequestMore(peer);
        }
    }

    private void OnMetadataComplete(ReadOnlyMemory<byte> infoDictionary)
    {
        Torrent torrent;
        try
        {
            torrent = Torrent.FromInfoDictionary(infoDictionary);
        }
        catch (MetainfoException ex)
        {
            // The bytes match the info-hash, so this is the torrent everyone shares: nothing to retry.
            Fail(new InvalidDataException("the swarm's metadata is not a usable torrent: " + ex.Message, ex));
            return;
        }
        _t.Torrent = torrent;
        _t.Have = new BitField(torrent.PieceCount);
        _metadata.TrySetResult(torrent);
        _t.Log($"metadata received: {torrent.Name}, {torrent.TotalSize} bytes in {torrent.PieceCount} pieces");
        foreach (PeerConnection peer in _t.Peers.All) peer.Metadata.RequestedPiece = null;
        StartCheck();
    }

    private void PunishMetadataContributors(IReadOnlyList<int> contributors)
    {
        foreach (int key in contributors)
        {
            if (!_t.Peers.TryGet(key, out PeerConnection peer)) continue;
            _admission.Ban(peer.EndPoint, peer.ListenEndPoint, peer.PeerId, peer.Client, "sent metadata that does not match the info-hash");
        }
    }

    private void EnterSeeding()
    {
        bool wasDownloading = _t.State == TorrentState.Downloading;
        _t.State = TorrentState.Seeding;
        if (wasDownloading)
        {
            _t.Log("download complete; seeding");
            _downloadFinished.TrySetResult();
        }
        foreach (PeerConnection peer in _t.Peers.All)
        {
            _requester.StopDownloading(peer);
            _availability.CloseIfBothSeeds(peer);
        }
        _snapshots.PublishStatus();
        _completion.TrySetResult();
    }

    private void Fail(Exception error)
    {
        _t.Error = error is StorageException storage ? storage.Message : error.Message;
        _t.State = TorrentState.Error;
        _t.Log("stopped on error: " + _t.Error);
        _snapshots.PublishStatus();
        _completion.TrySetException(new IOException(_t.Error, error));
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
            if (!PeerTimeouts.Check(peer, _t.Time, now)) continue;
            _requester.CheckSnub(peer, now);
            _metadataExchange.OnTick(peer, now);
            _requester.RequestMore(peer);
        }
        if (!_t.IsPrivate) _pex.SendUpdates(_t.Peers.All, ConnectedForPex);
        _snapshots.SampleRates(uploaded, elapsed);
        _unchoker.OnTick(now);
        ResumeAfterDiskPause(now);
        _admission.DialMore();
        _resume.MaybeSave(now);
        _snapshots.Publish();
    }

    /// <summary>The connected peers as PEX tells them: listen endpoints, seed and reachable flags.</summary>
    private Dictionary<IPEndPoint, PexFlags> ConnectedForPex()
    {
        var connected = new Dictionary<IPEndPoint, PexFlags>();
        foreach (PeerConnection peer in _t.Peers.All)
        {
            if (peer.ListenEndPoint is not { } listen) continue;
            PexFlags flags = PexFlags.None;
            if (_t.Picker is not null && peer.Has.AllSet) flags |= PexFlags.Seed;
            if (!peer.Incoming) flags |= PexFlags.Reachable;
            connected[PexTracker.Normalize(listen)] = flags;
        }
        return connected;
    }

    /// <summary>
    /// Posts what the disk path reports. A verdict is never dropped: when the mailbox is full it waits for room (off
    /// the disk worker); only a closed mailbox (the torrent stopped) drops it.
    /// </summary>
    private sealed class DiskEvents(TorrentActor actor) : IDiskEvents
    {
        public void OnPieceHashed(int piece, bool verified) => Post(new TorrentEvent
        {
            Kind = TorrentEventKind.PieceHashed,
            Index = piece,
            WriteResult = verified ? BlockWriteResult.PieceVerified : BlockWriteResult.PieceFailed,
        });

        public void OnWriteFailed(int piece, Exception error) => Post(new TorrentEvent { Kind = TorrentEventKind.DiskFailed, Index = piece, Error = error });

        // A lost wake-up only delays requesting until the next tick.
        public void OnWriteBacklogDrained() => actor.TryPost(new TorrentEvent { Kind = TorrentEventKind.WritesDrained });

        private void Post(TorrentEvent item)
        {
            if (!actor.TryPost(item)) _ = actor.PostAsync(item).AsTask();
        }
    }


}
