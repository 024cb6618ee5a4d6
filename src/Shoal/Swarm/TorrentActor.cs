using System.Buffers;
using System.Net;
using System.Threading.Channels;
using Shoal.Choking;
using Shoal.Discovery;
using Shoal.Metainfo;
using Shoal.Picking;
using Shoal.Storage;
using Shoal.Wire;

namespace Shoal.Swarm;

/// <summary>
/// One torrent's single-threaded core. Everything that changes the torrent's protocol state arrives as a
/// <see cref="TorrentEvent"/> in one bounded mailbox and is handled here, one event at a time, so the
/// picker, the choker and the peer table need no locks. Handlers never block: disk work is queued to the
/// write pump and its results come back as events.
/// </summary>
internal sealed class TorrentActor
{
    private const int MailboxCapacity = 8192;
    private static readonly TimeSpan TickInterval = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan ChokeInterval = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The first choke round runs this soon after the torrent starts, not a whole <see cref="ChokeInterval"/>
    /// later: free regular slots go to the first interested peers at once, and the optimistic slot is kept for
    /// the choker, which gives it to a peer with nothing yet (new peers weigh more) once the first few seconds'
    /// arrivals are known. With the optimistic slot handed out first come, a swarm's slower starters (libtorrent
    /// processes, 0.3-0.5 s behind in the swarm benchmark) got nothing from anyone for 10 s.
    /// </summary>
    private static readonly TimeSpan FirstChokeRound = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan KeepAliveInterval = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan InactivityTimeout = TimeSpan.FromSeconds(150);
    private static readonly TimeSpan SnubTimeout = TimeSpan.FromSeconds(30);

    /// <summary>How long a torrent paused by a disk error waits before it tries writing again.</summary>
    private static readonly TimeSpan DiskRetryInterval = TimeSpan.FromSeconds(10);

    /// <summary>How often resume data is saved while pieces keep being verified.</summary>
    private static readonly TimeSpan ResumeSaveInterval = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Most requests a peer may have queued with us; past it the request is rejected (or ignored without BEP 6).
    /// We advertise it as reqq, and some clients size their pipeline by it rather than by the link: Transmission
    /// keeps at most reqq requests out and refills about once a second, so it downloads reqq x 16 KiB per second
    /// at most (measured: 500 gave exactly 8.19 MB/s, 4000 gives 65.5 MB/s). A queued request costs one 32-byte
    /// entry in the peer's send queue, not a buffer, so a deep queue is cheap.
    /// </summary>
    private const int MaxQueuedUploadsPerPeer = 4000;

    /// <summary>Blocks waiting for the disk past which we stop asking for more: a slow disk slows the download instead of filling memory.</summary>
    private const int WriteQueueHighWater = 512;

    /// <summary>Requests paused at the high-water mark resume here (an event, not the next tick: a 500 ms gap would idle a fast link).</summary>
    private const int WriteQueueLowWater = WriteQueueHighWater / 4;

    /// <summary>
    /// Requests beyond the queue cap a peer may send before it is dropped as a flooder. We advertise the cap
    /// (reqq), so an honest client stays under it; this leaves room for clients that ignore reqq but back off.
    /// The queued requests plus the rejects for these stay well inside the peer's send queue.
    /// </summary>
    private const int MaxOverflowRequests = MaxQueuedUploadsPerPeer;

    /// <summary>Blocks a peer may send unasked before it is dropped.</summary>
    private const int MaxUnexpectedBlocks = 64;

    /// <summary>Failed pieces a peer may contribute to before it is banned.</summary>
    private const int MaxHashFailures = 3;

    /// <summary>How long a metadata request (BEP 9) may go unanswered before another peer is asked.</summary>
    private static readonly TimeSpan MetadataRequestTimeout = TimeSpan.FromSeconds(10);

    /// <summary>How long a peer that rejected a metadata request is left alone.</summary>
    private static readonly TimeSpan MetadataRefusalPause = TimeSpan.FromSeconds(30);

    private const int MaxCandidates = 2000;

    /// <summary>Failed pieces whose senders are kept for smart ban; beyond it, the old counting applies.</summary>
    private const int MaxFailedPiecesTracked = 256;
    private const int MaxHalfOpen = 8;
    private const int MaxAllowedFast = 32;

    private readonly SessionContext _session;
    private readonly InfoHash _infoHash;
    private readonly string _displayName;
    private readonly TorrentOptions _options;
    private readonly Func<Torrent, TorrentStorage> _openStorage;
    private readonly Channel<TorrentEvent> _mailbox;
    /// <summary>
    /// The disk write pump: one queue and one writer task per shard, a piece always in the same shard. One
    /// reader per queue keeps waiting allocation-free, and a piece's blocks reach the storage in order.
    /// </summary>
    private readonly Channel<PendingWrite>[] _writes;
    private readonly PeerLoopContext _loopContext;
    private readonly RateLimiter _uploadLimit;
    private readonly RateLimiter _downloadLimit;
    private readonly Choker _choker;
    private readonly Dictionary<int, PeerConnection> _peers = [];
    private readonly Dictionary<PeerConnection, Task> _peerTasks = [];
    private readonly Dictionary<IPEndPoint, PeerCandidate> _candidates = [];
    private readonly BanList _bans;
    /// <summary>Who sent each block of the pieces in progress (index: block of 16 KiB).</summary>
    private readonly Dictionary<int, BlockSender[]> _blockSenders = [];

    /// <summary>Smart ban: the senders of failed pieces whose retry will tell which blocks were bad (bounded).</summary>
    private readonly Dictionary<int, BlockSender[]> _failedSenders = [];
    /// <summary>Sender arrays of verified pieces, reused for the next ones (one array per piece would be garbage per piece).</summary>
    private readonly Stack<BlockSender[]> _senderArrays = new();
    private const int MaxPooledSenderArrays = 64;
    private readonly List<int> _cancelScratch = [];
    private readonly HashSet<int> _unchokeScratch = [];
    private ChokeCandidate[] _chokeCandidates = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<Torrent> _metadata = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _downloadFinished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly long _startedAt;

    private Torrent? _torrent;
    private TorrentStorage? _storage;
    private bool[]? _wantedPieces;  // null: every piece is wanted
    private long _wantedBytes;
    private MetadataAssembler? _metadataAssembler;
    private MetadataServer? _metadataServer;
    private BitField _have;
    private PiecePicker? _picker;
    private TorrentState _state = TorrentState.Checking;
    private string? _error;
    private int _nextPeerKey;
    private int _halfOpen;
    private int _queuedWrites;
    private volatile bool _requestsPausedForDisk;
    private int _checkedPieces;
    private long _verifiedBytes;
    private long _downloaded;
    private long _uploadedByClosedPeers;
    private int _failedPieces;
    private long _lastTick;
    private long _lastChoke;
    private bool _chokedOnce;
    private RateMeter _downloadMeter;
    private RateMeter _uploadMeter;
    private ITimer? _timer;
    private Task _resumeSave = Task.CompletedTask;
    private long _diskPausedAt;
    private int _resumeSavedVerifiedCount = -1;
    private long _lastResumeSave;
    private Task? _run;
    private volatile TorrentStatus _status;
    private volatile IReadOnlyList<PeerStatus> _peerSnapshot = [];

    /// <summary>
    /// Creates the actor for a torrent whose metadata is known (<paramref name="torrent"/> and its opened
    /// <paramref name="storage"/>), or only its info-hash (a magnet link: both null, the info dictionary is then
    /// fetched from peers and <paramref name="openStorage"/> opens the files).
    /// </summary>
    public TorrentActor(SessionContext session, InfoHash infoHash, string displayName, Torrent? torrent, TorrentStorage? storage,
        TorrentOptions options, Func<Torrent, TorrentStorage> openStorage)
    {
        _session = session;
        _infoHash = infoHash;
        _displayName = displayName;
        _torrent = torrent;
        _storage = storage;
        _options = options;
        _openStorage = openStorage;
        _have = new BitField(torrent?.PieceCount ?? 0);
        _wantedBytes = torrent?.TotalSize ?? 0;
        if (torrent is not null) _metadata.TrySetResult(torrent);
        _mailbox = Channel.CreateBounded<TorrentEvent>(new BoundedChannelOptions(MailboxCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        // Unbounded by type, bounded in practice: the actor stops requesting above the high-water mark, so
        // the queue never exceeds that mark plus the requests already outstanding.
        _writes = new Channel<PendingWrite>[Math.Max(1, session.Options.DiskConcurrency)];
        for (int i = 0; i < _writes.Length; i++)
            _writes[i] = Channel.CreateUnbounded<PendingWrite>(new UnboundedChannelOptions { SingleWriter = true, SingleReader = true });
        _uploadLimit = new RateLimiter(options.MaxUploadRate, session.Time);
        _downloadLimit = new RateLimiter(options.MaxDownloadRate, session.Time);
        _loopContext = new PeerLoopContext(_mailbox.Writer, session.Time, _uploadLimit, session.UploadLimit, _downloadLimit, session.DownloadLimit, session.ReleaseConnection)
        {
            Blocks = session.Blocks,
        };
        _choker = new Choker(session.Options.UnchokeSlots, new Random());
        _bans = new BanList(session.Time);
        _startedAt = session.Time.GetTimestamp();
        _status = BuildStatus();
        foreach (IPEndPoint peer in options.Peers) AddCandidate(peer, PeerSource.Manual);
    }

    /// <summary>The metainfo; null until a magnet link's metadata has arrived.</summary>
    public Torrent? Torrent => _torrent;

    public InfoHash InfoHash => _infoHash;

    /// <summary>The private flag (BEP 27): no PEX, LSD or DHT for such a torrent. False until the metadata is known.</summary>
    public bool IsPrivate => _torrent?.IsPrivate == true;

    public Task Completion => _completion.Task;

    /// <summary>Completes when a download finishes in this run (never, for a torrent that started complete).</summary>
    public Task DownloadFinished => _downloadFinished.Task;

    /// <summary>Completes with the torrent once its metadata is known (at once for a .torrent).</summary>
    public Task<Torrent> Metadata => _metadata.Task;

    public TorrentStatus Status => _status;

    public IReadOnlyList<PeerStatus> PeerSnapshot => _peerSnapshot;

    /// <summary>Starts the actor: checks existing data, then runs the event loop.</summary>
    public void Start() => _run = Task.Run(RunAsync);

    /// <summary>Posts an event without waiting; false when the mailbox is full or closed.</summary>
    public bool TryPost(in TorrentEvent item) => _mailbox.Writer.TryWrite(item);

    /// <summary>Queues addresses to dial; false when the mailbox is full (the addresses are then dropped).</summary>
    public bool AddPeers(IPEndPoint[] peers, PeerSource source)
        => peers.Length == 0 || TryPost(new TorrentEvent { Kind = TorrentEventKind.AddPeers, Payload = peers, Source = source });

    /// <summary>Stops the torrent: closes its peers, drains its disk writes, closes its files.</summary>
    public async Task StopAsync()
    {
        if (!_stopping.IsCancellationRequested) _stopping.Cancel();
        if (_run is not null) await _run.ConfigureAwait(false);
    }

    // ---- main loop ------------------------------------------------------------------------------------

    private async Task RunAsync()
    {
        CancellationToken stop = _stopping.Token;
        Task[] writers = [];
        try
        {
            writers = new Task[_writes.Length];
            for (int i = 0; i < writers.Length; i++)
            {
                ChannelReader<PendingWrite> shard = _writes[i].Reader;
                writers[i] = Task.Run(() => WriteLoopAsync(shard, stop));
            }
            _lastTick = _lastChoke = _session.Time.GetTimestamp();
            _timer = _session.Time.CreateTimer(_ => TryPost(new TorrentEvent { Kind = TorrentEventKind.Tick }), null, TickInterval, TickInterval);

            if (_torrent is null)
            {
                _state = TorrentState.FetchingMetadata;
                Publish();
                DialMore();
                if (!await RunEventsAsync(untilMetadata: true, stop).ConfigureAwait(false)) return;
            }
            await PrepareDataAsync(stop).ConfigureAwait(false);
            Publish();
            DialMore();
            await RunEventsAsync(untilMetadata: false, stop).ConfigureAwait(false);
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
            await ShutDownAsync(writers).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Handles events one at a time until the torrent stops (false), fails (false) or, with
    /// <paramref name="untilMetadata"/>, until the metadata has arrived (true).
    /// </summary>
    private async Task<bool> RunEventsAsync(bool untilMetadata, CancellationToken stop)
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
                if (_state == TorrentState.Error) return false;
                if (untilMetadata && _torrent is not null) return true;
                if (item.Kind == TorrentEventKind.Stopping) break;
            }
            stop.ThrowIfCancellationRequested();
        }
        return false;
    }

    /// <summary>Opens the files, checks what is already there, then starts trading pieces.</summary>
    private async Task PrepareDataAsync(CancellationToken stop)
    {
        Torrent torrent = _torrent!;
        _state = TorrentState.Checking;
        Publish();
        _storage ??= _openStorage(torrent);
        ResumeData? resume = null;
        if (ResumePath() is { } resumePath)
        {
            resume = ResumeFile.TryLoad(resumePath, _infoHash, out string? why);
            if (why is not null) Log($"resume data ignored ({why}); checking everything");
            else if (resume is not null && _storage.DescribeResumeMismatch(resume) is { } mismatch) Log($"resume data does not fit ({mismatch}); checking everything");
        }
        _have = await _storage.CheckExistingAsync(resume, new CheckProgress(this), stop).ConfigureAwait(false);
        _resumeSavedVerifiedCount = resume is null ? -1 : _have.SetCount;
        _lastResumeSave = _session.Time.GetTimestamp();
        // Zero-length files never receive a block, so nothing else would create them.
        await _storage.CreateEmptyFilesAsync(stop).ConfigureAwait(false);
        _picker = new PiecePicker(torrent.PieceCount, torrent.PieceLength, torrent.TotalSize, _have, new Random());
        ApplyFileSelection(torrent);
        foreach (int i in _have.SetBits)
            if (IsWanted(i)) _verifiedBytes += torrent.GetPieceSize(i);
        Log($"checked: {_have.SetCount}/{_have.Length} pieces present");
        _loopContext.SetTorrentData(torrent.PieceCount, _storage);

        bool complete = _picker.IsComplete;
        _state = complete ? TorrentState.Seeding : TorrentState.Downloading;
        foreach (PeerConnection peer in _peers.Values.ToArray()) JoinPeerToPieces(peer);
        if (complete) EnterSeeding();
    }

    /// <summary>
    /// Gives a peer that connected before the metadata was known its real piece set: what it announced
    /// early is replayed, and it learns what we already have.
    /// </summary>
    private void JoinPeerToPieces(PeerConnection peer)
    {
        if (peer.Has.Length == _have.Length) return;
        peer.Has = new BitField(_have.Length);
        EarlyAvailability? early = peer.Early;
        peer.Early = null;
        try
        {
            if (early?.Bitfield is { } bits) peer.Has.LoadFromIgnoringSpareBits(bits);
            if (early?.HasAll == true) peer.Has.SetAll();
            foreach (int piece in early?.Haves ?? [])
            {
                if ((uint)piece >= (uint)peer.Has.Length) throw new ShoalFormatException($"HAVE for piece {piece} of {peer.Has.Length}");
                peer.Has[piece] = true;
            }
        }
        catch (ShoalFormatException ex)
        {
            peer.Close("bad availability: " + ex.Message);
            return;
        }
        _picker!.AddPeer(peer.Has);
        foreach (int i in _have.SetBits)
            if (IsShareable(i)) peer.Send(new OutboundMessage(MessageId.Have, i));
        UpdateInterest(peer);
    }

    private async Task ShutDownAsync(Task[] writers)
    {
        bool saveResume = _storage is not null && _picker is not null && _state != TorrentState.Error;
        if (_timer is not null) await _timer.DisposeAsync().ConfigureAwait(false);
        if (_state != TorrentState.Error) _state = TorrentState.Stopped;
        foreach (PeerConnection peer in _peers.Values) peer.Close("torrent stopped");
        foreach (Channel<PendingWrite> shard in _writes) shard.Writer.TryComplete();
        if (!_stopping.IsCancellationRequested) _stopping.Cancel();

        // Peer loops post PeerClosed on the way out; keep draining so none of them waits on a full mailbox.
        Task peersDone = Task.WhenAll(_peerTasks.Values);
        while (!peersDone.IsCompleted)
        {
            await DiscardMailboxAsync().ConfigureAwait(false);
            await Task.WhenAny(peersDone, Task.Delay(50)).ConfigureAwait(false);
        }
        _mailbox.Writer.TryComplete();
        await DiscardMailboxAsync().ConfigureAwait(false);
        try { await Task.WhenAll(writers).ConfigureAwait(false); } catch (Exception ex) { Log("disk writer ended with " + ex.Message); }
        foreach (Channel<PendingWrite> shard in _writes)
            while (shard.Reader.TryRead(out PendingWrite write)) _session.Blocks.Return(write.Buffer);
        if (_storage is not null)
        {
            try { await _storage.FlushAsync().ConfigureAwait(false); } catch (Exception ex) { Log("flush failed: " + ex.Message); }
            // A clean stop leaves resume data that vouches for everything verified, so the next start hashes nothing.
            await _resumeSave.ConfigureAwait(false);
            if (saveResume) await SaveResumeAsync().ConfigureAwait(false);
            await _storage.DisposeAsync().ConfigureAwait(false);
        }
        _peers.Clear();
        Publish();
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
            if (item.Buffer is not null) _session.Blocks.Return(item.Buffer);
            if (item.Kind == TorrentEventKind.PeerJoined && item.Payload is PendingPeer pending) await DropPendingAsync(pending).ConfigureAwait(false);
            if (item.Kind == TorrentEventKind.DialFailed) _session.ReleaseConnection();
            if (item.Kind == TorrentEventKind.PieceMapRequest) ((TaskCompletionSource<PieceMap>)item.Payload!).TrySetCanceled();
        }
    }

    private void Handle(in TorrentEvent item)
    {
        switch (item.Kind)
        {
            case TorrentEventKind.Message:
                if (item.Peer is { } peer && _peers.ContainsKey(peer.Key)) OnMessage(peer, item);
                else if (item.Buffer is not null) _session.Blocks.Return(item.Buffer);
                break;
            case TorrentEventKind.PeerJoined:
                OnPeerJoined((PendingPeer)item.Payload!);
                break;
            case TorrentEventKind.PeerClosed:
                OnPeerClosed(item.Peer!, item.Error);
                break;
            case TorrentEventKind.DialFailed:
                OnDialFailed((IPEndPoint)item.Payload!, item.Error);
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
                _requestsPausedForDisk = false;
                foreach (PeerConnection waiting in _peers.Values) RequestMore(waiting);
                break;
            case TorrentEventKind.AddPeers:
                foreach (IPEndPoint endPoint in (IPEndPoint[])item.Payload!) AddCandidate(endPoint, item.Source);
                DialMore();
                break;
            case TorrentEventKind.PieceMapRequest:
                ((TaskCompletionSource<PieceMap>)item.Payload!).TrySetResult(BuildPieceMap());
                break;
        }
    }

    /// <summary>A copy of the verified pieces and the pieces in flight (asked for by a details view, never per block).</summary>
    private PieceMap BuildPieceMap()
        => new(_have.Length, _have.Bytes.ToArray(), _picker?.PartialPieceIndices() ?? []);

    /// <summary>Asks the actor for its piece map; null when the torrent is stopping or its mailbox is full.</summary>
    public Task<PieceMap>? RequestPieceMap()
    {
        var answer = new TaskCompletionSource<PieceMap>(TaskCreationOptions.RunContinuationsAsynchronously);
        return TryPost(new TorrentEvent { Kind = TorrentEventKind.PieceMapRequest, Payload = answer }) ? answer.Task : null;
    }

    // ---- peers joining and leaving --------------------------------------------------------------------

    private void OnPeerJoined(PendingPeer pending)
    {
        if (pending.DialedEndPoint is { } dialed)
        {
            _halfOpen--;
            if (_candidates.TryGetValue(dialed, out PeerCandidate? candidate)) candidate.State = CandidateState.Connected;
        }
        string? refusal = RefusalReason(pending);
        if (refusal is not null)
        {
            if (pending.DialedEndPoint is { } ep && _candidates.TryGetValue(ep, out PeerCandidate? c))
            {
                c.State = CandidateState.Idle;
                c.NextAttempt = _session.Time.GetTimestamp() + (long)(TimeSpan.FromMinutes(10).TotalSeconds * _session.Time.TimestampFrequency);
                if (refusal == "connection to ourselves") c.IsSelf = true;
            }
            Log($"refused {pending.Transport.RemoteEndPoint}: {refusal}");
            _ = DropPendingAsync(pending);
            return;
        }

        long now = _session.Time.GetTimestamp();
        var peer = new PeerConnection(_nextPeerKey++, _session.NextConnectionId(), pending, _have.Length, now);
        peer.Source = pending.DialedEndPoint is { } source && _candidates.TryGetValue(source, out PeerCandidate? known)
            ? known.Source
            : PeerSource.Incoming;
        _peers.Add(peer.Key, peer);
        SendInitialMessages(peer);
        if (peer.SupportsExtensions) SendExtensionHandshake(peer);
        if (peer.SupportsDht && _session.Dht?.LocalEndPoint is { } dht) peer.Send(new OutboundMessage(MessageId.Port, dht.Port));
        _peerTasks[peer] = peer.RunAsync(_loopContext);
        Log($"peer {peer.EndPoint} joined ({peer.Client}, {(peer.Incoming ? "incoming" : "outgoing")}, {Transport.Encryption.PeerEncryptionNames.Describe(peer.Encryption)})");
    }

    private string? RefusalReason(PendingPeer pending)
    {
        if (_state is not (TorrentState.Downloading or TorrentState.Seeding or TorrentState.FetchingMetadata or TorrentState.Paused)) return "torrent not running";
        if (_peers.Count >= _session.Options.MaxConnectionsPerTorrent) return "too many connections";
        if (_bans.IsBanned(pending.Transport.RemoteEndPoint, pending.Handshake.PeerId.Span)) return "banned";
        ReadOnlySpan<byte> remoteId = pending.Handshake.PeerId.Span;
        if (remoteId.SequenceEqual(_session.PeerId)) return "connection to ourselves";
        foreach (PeerConnection existing in _peers.Values)
        {
            if (!remoteId.SequenceEqual(existing.PeerId)) continue;
            // Two peers that dial each other at once end up connected twice. Both sides must keep the same
            // connection or both would drop one each and lose both: keep the one the lower peer id opened.
            bool newPreferred = InitiatedByLowerId(pending.Incoming, remoteId);
            bool existingPreferred = InitiatedByLowerId(existing.Incoming, existing.PeerId);
            if (newPreferred && !existingPreferred)
            {
                existing.Close("duplicate connection");
                return null;
            }
            return "duplicate connection";
        }
        return null;
    }

    private bool InitiatedByLowerId(bool incoming, ReadOnlySpan<byte> remoteId)
    {
        ReadOnlySpan<byte> initiator = incoming ? remoteId : _session.PeerId;
        ReadOnlySpan<byte> acceptor = incoming ? _session.PeerId : remoteId;
        return initiator.SequenceCompareTo(acceptor) < 0;
    }

    private async Task DropPendingAsync(PendingPeer pending)
    {
        _session.ReleaseConnection();
        try { await pending.Transport.DisposeAsync().ConfigureAwait(false); }
        catch (Exception ex) { Log($"closing {pending.Transport.RemoteEndPoint} failed: {ex.Message}"); }
    }

    private void SendInitialMessages(PeerConnection peer)
    {
        if (_picker is null)
        {
            // Metadata not known yet: we have nothing (an empty BitField would look like "all set").
            if (peer.SupportsFast) peer.Send(new OutboundMessage(MessageId.HaveNone));
            return;
        }
        if (_wantedPieces is not null)
        {
            // Some verified pieces are only partly on disk (deselected files): announce just the whole ones.
            var shareable = new BitField(_have.Length);
            for (int i = 0; i < _have.Length; i++) shareable[i] = IsShareable(i);
            if (!shareable.NoneSet) peer.Send(new OutboundMessage(MessageId.Bitfield, Data: shareable.Bytes.ToArray()));
            else if (peer.SupportsFast) peer.Send(new OutboundMessage(MessageId.HaveNone));
        }
        else if (peer.SupportsFast && _have.AllSet) peer.Send(new OutboundMessage(MessageId.HaveAll));
        else if (peer.SupportsFast && _have.NoneSet) peer.Send(new OutboundMessage(MessageId.HaveNone));
        else if (!_have.NoneSet) peer.Send(new OutboundMessage(MessageId.Bitfield, Data: _have.Bytes.ToArray()));
    }

    private void OnPeerClosed(PeerConnection peer, Exception? error)
    {
        _peerTasks.Remove(peer);
        if (!_peers.Remove(peer.Key)) return;
        _uploadedByClosedPeers += peer.Uploaded;
        peer.Outstanding.Clear();
        _metadataAssembler?.OnPeerGone(peer.Key);
        _picker?.ForgetPeer(peer.Key);
        _picker?.RemovePeer(peer.Has);
        if (peer.DialedEndPoint is { } dialed && _candidates.TryGetValue(dialed, out PeerCandidate? candidate))
        {
            candidate.State = CandidateState.Idle;
            candidate.Failures++;
            candidate.NextAttempt = _session.Time.GetTimestamp() + Backoff(candidate.Failures);
        }
        Log($"peer {peer.EndPoint} left: {peer.CloseReason ?? error?.Message ?? "closed"}");
        if (!peer.AmChoking) UnchokeFreeSlots();
        DialMore();
    }

    private void OnDialFailed(IPEndPoint endPoint, Exception? error)
    {
        _session.ReleaseConnection();
        _halfOpen--;
        if (_candidates.TryGetValue(endPoint, out PeerCandidate? candidate))
        {
            candidate.State = CandidateState.Idle;
            candidate.Failures++;
            candidate.NextAttempt = _session.Time.GetTimestamp() + Backoff(candidate.Failures);
        }
        Log($"dial {endPoint} failed: {error?.Message}");
    }

    private long Backoff(int failures)
    {
        double seconds = Math.Min(600, 5 * Math.Pow(2, Math.Min(failures - 1, 10)));
        return (long)(seconds * _session.Time.TimestampFrequency);
    }

    private void AddCandidate(IPEndPoint endPoint, PeerSource source, bool connected = false)
    {
        // IPv4-mapped IPv6 and plain IPv4 must be one candidate, or the same peer is dialled twice.
        if (endPoint.Address.IsIPv4MappedToIPv6) endPoint = new IPEndPoint(endPoint.Address.MapToIPv4(), endPoint.Port);
        if (endPoint.Port == 0) return;
        if (_candidates.TryGetValue(endPoint, out PeerCandidate? known))
        {
            known.Source |= source;
            return;
        }
        if (_candidates.Count >= MaxCandidates) return;
        // A connected incoming peer's listen address is recorded so that PEX or a tracker naming it
        // later does not make us dial it a second time.
        _candidates.Add(endPoint, new PeerCandidate(endPoint) { Source = source, State = connected ? CandidateState.Connected : CandidateState.Idle });
    }

    private void DialMore()
    {
        if (_state is not (TorrentState.Downloading or TorrentState.Seeding or TorrentState.FetchingMetadata or TorrentState.Paused)) return;
        long now = _session.Time.GetTimestamp();
        foreach (PeerCandidate candidate in _candidates.Values)
        {
            if (_halfOpen >= MaxHalfOpen || _peers.Count + _halfOpen >= _session.Options.MaxConnectionsPerTorrent) return;
            if (candidate.State != CandidateState.Idle || candidate.IsSelf || candidate.NextAttempt > now) continue;
            if (_bans.IsBanned(candidate.EndPoint) || IsConnectedTo(candidate.EndPoint)) continue;
            if (!_session.TryReserveConnection()) return;
            candidate.State = CandidateState.Connecting;
            _halfOpen++;
            _ = _session.DialAsync(this, candidate.EndPoint, _stopping.Token);
        }
    }

    private bool IsConnectedTo(IPEndPoint endPoint)
    {
        foreach (PeerConnection peer in _peers.Values)
            if (peer.EndPoint.Equals(endPoint) || endPoint.Equals(peer.ListenEndPoint)) return true;
        return false;
    }

    // ---- messages -------------------------------------------------------------------------------------

    private void OnMessage(PeerConnection peer, in TorrentEvent item)
    {
        switch (item.MessageId)
        {
            case MessageId.Piece:
                OnBlock(peer, new BlockRequest(item.Index, item.Begin, item.Length), item.Buffer!);
                break;
            case MessageId.Request:
                OnRequest(peer, item.Index, item.Begin, item.Length);
                break;
            case MessageId.Have:
                if (_picker is null)
                {
                    (peer.Early ??= new EarlyAvailability()).AddHave(item.Index);
                    break;
                }
                if (peer.Has[item.Index]) break;
                peer.Has[item.Index] = true;
                _picker!.PeerHasPiece(item.Index);
                if (!peer.AmInterested && !_have[item.Index]) UpdateInterest(peer);
                CloseIfBothSeeds(peer);
                break;
            case MessageId.Bitfield:
            case MessageId.HaveAll:
            case MessageId.HaveNone:
                OnAvailabilityMessage(peer, item);
                break;
            case MessageId.Choke:
                peer.PeerChoking = true;
                // Without BEP 6 a choke silently voids every pending request; with it, the peer rejects
                // each one explicitly, so they stay outstanding until then.
                if (!peer.SupportsFast) DropAllRequests(peer);
                break;
            case MessageId.Unchoke:
                peer.PeerChoking = false;
                peer.LastBlockAt = _session.Time.GetTimestamp();
                RequestMore(peer);
                break;
            case MessageId.Interested:
                peer.PeerInterested = true;
                if (peer.AmChoking) UnchokeFreeSlots();
                break;
            case MessageId.NotInterested:
                peer.PeerInterested = false;
                if (!peer.AmChoking)
                {
                    peer.Choke();
                    UnchokeFreeSlots();
                }
                break;
            case MessageId.Reject:
                RequireFast(peer, "reject");
                var rejected = new BlockRequest(item.Index, item.Begin, item.Length);
                if (peer.Outstanding.Remove(rejected)) _picker?.OnRequestDropped(peer.Key, rejected);
                break;
            case MessageId.AllowedFast:
                RequireFast(peer, "allowed fast");
                // Out of range (or unknown before the metadata): ignored, as libtorrent does, so it takes no slot.
                if (item.Index >= 0 && (_picker is null || item.Index < _picker.PieceCount)
                    && peer.AllowedFast.Count < MaxAllowedFast && !peer.AllowedFast.Contains(item.Index))
                {
                    peer.AllowedFast.Add(item.Index);
                    if (peer.PeerChoking) RequestMore(peer);
                }
                break;
            case MessageId.Cancel:
                // Serving a cancelled block anyway is allowed (BEP 3, and BEP 6 accepts the piece as the
                // answer); the send loop does not search its queue, which keeps it lock-free.
                break;
            case MessageId.Suggest:
                RequireFast(peer, "suggest");
                break;
            case MessageId.Extended:
                OnExtended(peer, (byte)item.Index, (byte[])item.Payload!);
                break;
            case MessageId.Port:
                // BEP 5: a peer's DHT node is a node worth knowing; the DHT pings it before trusting it.
                if (item.Index > 0 && !IsPrivate) _session.Dht?.AddNode(new IPEndPoint(peer.EndPoint.Address, item.Index));
                break;
        }
    }

    private static void RequireFast(PeerConnection peer, string what)
    {
        if (!peer.SupportsFast) peer.Close($"sent {what} without the fast extension");
    }

    /// <summary>BITFIELD, HAVE ALL or HAVE NONE, first or later: the peer's new piece set (see <see cref="PeerAvailability"/>).</summary>
    private void OnAvailabilityMessage(PeerConnection peer, in TorrentEvent item)
    {
        if (item.MessageId != MessageId.Bitfield && !peer.SupportsFast)
        {
            RequireFast(peer, item.MessageId.ToString());
            return;
        }
        byte[]? bits = item.MessageId == MessageId.Bitfield ? (byte[])item.Payload! : null;
        if (_picker is null)
        {
            PeerAvailability.ReplaceEarly(peer.Early ??= new EarlyAvailability(), item.MessageId, bits);
            return;
        }
        try
        {
            if (PeerAvailability.Replace(peer.Has, _picker, item.MessageId, bits)) DropRequestsForPiecesGone(peer);
        }
        catch (ShoalFormatException ex)
        {
            peer.Close("bad bitfield: " + ex.Message);
            return;
        }
        UpdateInterest(peer);
        CloseIfBothSeeds(peer);
    }

    /// <summary>The peer no longer claims some pieces: our requests for them go back to the picker (and are cancelled).</summary>
    private void DropRequestsForPiecesGone(PeerConnection peer)
    {
        foreach (BlockRequest request in peer.Outstanding)
        {
            if (peer.Has[request.Piece]) continue;
            _picker?.OnRequestDropped(peer.Key, request);
            peer.Send(new OutboundMessage(MessageId.Cancel, request.Piece, request.Offset, request.Length));
            ExpectLateBlocks(peer, 1);
        }
        peer.Outstanding.RemoveWhere(request => !peer.Has[request.Piece]);
    }

    private void CloseIfBothSeeds(PeerConnection peer)
    {
        if (_state == TorrentState.Seeding && peer.Has.AllSet) peer.Close("both sides are seeds");
    }

    private void OnRequest(PeerConnection peer, int piece, int begin, int length)
    {
        // The wire reader passes any well-framed request on (fields that do not fit an int as -1): one we cannot
        // serve is rejected, and one a reject cannot even name is ignored, as libtorrent does; neither closes.
        bool nameable = piece >= 0 && begin >= 0 && length is > 0 and <= PeerMessageReader.MaxBlockLength;
        bool valid = nameable && _torrent is not null && piece < _have.Length && IsShareable(piece) && (long)begin + length <= _torrent.GetPieceSize(piece);
        bool allowed = !peer.AmChoking && peer.QueuedUploads < MaxQueuedUploadsPerPeer;
        if (valid && allowed)
        {
            peer.Send(new OutboundMessage(MessageId.Piece, piece, begin, length, peer.ChokeEpoch));
            return;
        }
        if (valid && !peer.AmChoking && ++peer.OverflowRequests > MaxOverflowRequests)
        {
            peer.Close($"flooded us with requests (more than {MaxOverflowRequests} beyond the {MaxQueuedUploadsPerPeer} it may queue)");
            return;
        }
        if (peer.SupportsFast && nameable) peer.Send(new OutboundMessage(MessageId.Reject, piece, begin, length));
    }

    private void OnBlock(PeerConnection peer, BlockRequest block, byte[] buffer)
    {
        peer.Downloaded += block.Length;
        _downloaded += block.Length;
        if (!peer.Outstanding.Remove(block))
        {
            _session.Blocks.Return(buffer);
            if (peer.CancelledInFlight > 0) peer.CancelledInFlight--;
            else if (++peer.UnexpectedBlocks > MaxUnexpectedBlocks) peer.Close("sent blocks nobody asked for");
            return;
        }
        peer.LastBlockAt = _session.Time.GetTimestamp();
        peer.IsSnubbed = false;

        _cancelScratch.Clear();
        bool wanted = _picker is not null && _picker.OnBlockReceived(peer.Key, block, _cancelScratch);
        foreach (int otherKey in _cancelScratch)
        {
            if (_peers.TryGetValue(otherKey, out PeerConnection? other) && other.Outstanding.Remove(block))
            {
                ExpectLateBlocks(other, 1);
                other.Send(new OutboundMessage(MessageId.Cancel, block.Piece, block.Offset, block.Length));
            }
        }
        if (wanted)
        {
            RecordSender(block, peer);
            Interlocked.Increment(ref _queuedWrites);
            _writes[block.Piece % _writes.Length].Writer.TryWrite(new PendingWrite(block, buffer));
        }
        else
        {
            _session.Blocks.Return(buffer);
        }
        RequestMore(peer);
    }

    private void RecordSender(BlockRequest block, PeerConnection peer)
    {
        if (!_blockSenders.TryGetValue(block.Piece, out BlockSender[]? senders))
        {
            int blocks = (_torrent!.GetPieceSize(block.Piece) + PiecePicker.BlockLength - 1) / PiecePicker.BlockLength;
            // Only full-size arrays are pooled; the last piece may be shorter.
            senders = _senderArrays.Count > 0 && _senderArrays.Peek().Length == blocks ? _senderArrays.Pop() : new BlockSender[blocks];
            _blockSenders.Add(block.Piece, senders);
        }
        senders[block.Offset / PiecePicker.BlockLength] = new BlockSender(peer.Key, peer.EndPoint, peer.ListenEndPoint, peer.PeerId, peer.Client);
    }

    /// <summary>Who sent one block: enough to ban the peer (endpoint, listen endpoint, peer id) even after the connection is gone.</summary>
    private readonly record struct BlockSender(int Key, IPEndPoint? EndPoint, IPEndPoint? ListenEndPoint, byte[]? PeerId, string? Client);

    // ---- file selection (BEP 53) ----------------------------------------------------------------------

    /// <summary>Marks the pieces of deselected files unwanted in the picker (the storage knows which straddle them).</summary>
    private void ApplyFileSelection(Torrent torrent)
    {
        _wantedBytes = torrent.TotalSize;
        HashSet<int>? skipped = ShoalSession.SkippedFiles(torrent, _options.SelectedFiles);
        if (skipped is null) return;
        _wantedPieces = new bool[torrent.PieceCount];
        for (int f = 0; f < torrent.Files.Count; f++)
        {
            TorrentFile file = torrent.Files[f];
            if (file.Length == 0 || file.IsPadding || skipped.Contains(f)) continue;
            int first = (int)(file.Offset / torrent.PieceLength);
            int last = (int)((file.Offset + file.Length - 1) / torrent.PieceLength);
            for (int p = first; p <= last; p++) _wantedPieces[p] = true;
        }
        _wantedBytes = 0;
        for (int p = 0; p < torrent.PieceCount; p++)
        {
            if (!_wantedPieces[p]) _picker!.SetPieceWanted(p, false);
            else _wantedBytes += torrent.GetPieceSize(p);
        }
        Log($"downloading {torrent.Files.Count - skipped.Count} of {torrent.Files.Count} files ({_wantedBytes} bytes)");
    }

    private bool IsWanted(int piece) => _wantedPieces?[piece] ?? true;

    /// <summary>Verified and every byte readable (in its files, or a kept copy): safe to announce and to upload.</summary>
    private bool IsShareable(int piece) => _have[piece] && _storage!.IsWhollyStored(piece);

    // ---- extension protocol (BEP 10): metadata (BEP 9) and peer exchange (BEP 11) -------------------

    private void SendExtensionHandshake(PeerConnection peer)
    {
        ExtensionHandshake local = ExtensionHandshake.CreateLocal(_session.ListenPort, _session.Options.ClientName,
            _torrent?.InfoDictionary.Length, peer.EndPoint.Address, MaxQueuedUploadsPerPeer) with
        {
            // Our external address as the gateway reported it (port mapping), and whether we prefer MSE (BEP 10 "e").
            Ipv4 = _session.ExternalAddress is { AddressFamily: System.Net.Sockets.AddressFamily.InterNetwork } v4 ? v4 : null,
            Ipv6 = _session.ExternalAddress is { AddressFamily: System.Net.Sockets.AddressFamily.InterNetworkV6 } v6 ? v6 : null,
            PrefersEncryption = _session.Options.Encryption != Transport.Encryption.EncryptionMode.Disable,
        };
        // BEP 27: a private torrent's peers come from its tracker only, so PEX is not offered.
        if (IsPrivate) local = local with { Extensions = new Dictionary<string, byte> { [ExtensionIds.MetadataName] = ExtensionIds.Metadata } };
        peer.Send(new OutboundMessage(MessageId.Extended, ExtensionIds.Handshake, Data: local.Encode()));
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
                        Log($"peer {peer.EndPoint}: extension handshake ignored: {ex.Message}");
                        break;
                    }
                    OnExtensionHandshake(peer, handshake);
                    break;
                case ExtensionIds.Metadata:
                    OnMetadataMessage(peer, MetadataMessage.Parse(payload));
                    break;
                case ExtensionIds.Pex:
                    OnPex(peer, PexMessage.Parse(payload));
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

    private void OnExtensionHandshake(PeerConnection peer, ExtensionHandshake handshake)
    {
        peer.Extensions = peer.Extensions is null ? handshake : peer.Extensions.MergeWith(handshake);
        if (_torrent is null && _metadataAssembler is null && handshake.MetadataSize is int size)
        {
            if (MetadataAssembler.TryCreate(_infoHash, size, out MetadataAssembler? assembler)) _metadataAssembler = assembler;
            else Log($"peer {peer.EndPoint} announced an impossible metadata size {size}");
        }
        if (peer.Incoming && peer.ListenEndPoint is { } listen) AddCandidate(listen, PeerSource.Incoming, connected: true);
        RequestMetadata(peer);
    }

    private void OnMetadataMessage(PeerConnection peer, MetadataMessage message)
    {
        switch (message.Type)
        {
            case MetadataMessageType.Request:
                byte remoteId = peer.Extensions?.GetId(ExtensionIds.MetadataName) ?? 0;
                if (remoteId == 0) return;
                byte[] answer = _torrent is null
                    ? MetadataMessage.Reject(message.Piece).Encode()
                    : (_metadataServer ??= new MetadataServer(_torrent.InfoDictionary)).Respond(message.Piece);
                peer.Send(new OutboundMessage(MessageId.Extended, remoteId, Data: answer));
                break;
            case MetadataMessageType.Data:
                if (peer.MetadataRequestPiece == message.Piece) peer.MetadataRequestPiece = null;
                if (_torrent is not null || _metadataAssembler is null) return;
                MetadataPieceResult result = _metadataAssembler.OnData(peer.Key, message.Piece, message.Data.Span);
                if (result == MetadataPieceResult.Completed) OnMetadataComplete(_metadataAssembler.InfoDictionary);
                else if (result == MetadataPieceResult.HashMismatch) PunishMetadataContributors(_metadataAssembler.LastFailureContributors);
                else RequestMetadata(peer);
                break;
            case MetadataMessageType.Reject:
                if (peer.MetadataRequestPiece == message.Piece) peer.MetadataRequestPiece = null;
                _metadataAssembler?.OnRejected(peer.Key, message.Piece);
                peer.RefusedMetadata = true;
                peer.MetadataRequestedAt = _session.Time.GetTimestamp();
                break;
        }
    }

    private void RequestMetadata(PeerConnection peer)
    {
        if (_torrent is not null || _metadataAssembler is null || peer.MetadataRequestPiece is not null || peer.RefusedMetadata) return;
        byte remoteId = peer.Extensions?.GetId(ExtensionIds.MetadataName) ?? 0;
        if (remoteId == 0) return;
        if (_metadataAssembler.NextPieceToRequest(peer.Key) is not int piece) return;
        peer.MetadataRequestPiece = piece;
        peer.MetadataRequestedAt = _session.Time.GetTimestamp();
        peer.Send(new OutboundMessage(MessageId.Extended, remoteId, Data: MetadataMessage.Request(piece).Encode()));
    }

    private void CheckMetadataRequest(PeerConnection peer, long now)
    {
        if (_torrent is not null) return;
        TimeSpan waited = _session.Time.GetElapsedTime(peer.MetadataRequestedAt, now);
        if (peer.MetadataRequestPiece is int piece && waited > MetadataRequestTimeout)
        {
            _metadataAssembler?.OnRejected(peer.Key, piece);
            peer.MetadataRequestPiece = null;
        }
        if (peer.RefusedMetadata && waited > MetadataRefusalPause) peer.RefusedMetadata = false;
        RequestMetadata(peer);
    }

    private void PunishMetadataContributors(IReadOnlyList<int> contributors)
    {
        foreach (int key in contributors)
        {
            if (!_peers.TryGetValue(key, out PeerConnection? peer)) continue;
            Ban(peer.EndPoint, peer.ListenEndPoint, peer.PeerId, peer.Client, "sent metadata that does not match the info-hash");
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
        _metadataAssembler = null;
        _torrent = torrent;
        _metadata.TrySetResult(torrent);
        Log($"metadata received: {torrent.Name}, {torrent.TotalSize} bytes in {torrent.PieceCount} pieces");
        foreach (PeerConnection peer in _peers.Values) peer.MetadataRequestPiece = null;
    }

    private void OnPex(PeerConnection peer, PexMessage message)
    {
        if (IsPrivate) return;
        TimeSpan now = _session.Time.GetElapsedTime(_startedAt);
        peer.Pex ??= new PexTracker(peer.ListenEndPoint);
        // BEP 11 allows one message a minute; a peer that floods has its extra messages ignored.
        if (!peer.Pex.OnReceived(now)) return;
        foreach (PexPeer added in message.Added) AddCandidate(added.EndPoint, PeerSource.Pex);
    }

    private void SendPex()
    {
        if (IsPrivate) return;
        Dictionary<IPEndPoint, PexFlags>? connected = null;
        TimeSpan now = _session.Time.GetElapsedTime(_startedAt);
        foreach (PeerConnection peer in _peers.Values)
        {
            byte remoteId = peer.Extensions?.GetId(ExtensionIds.PexName) ?? 0;
            if (remoteId == 0) continue;
            connected ??= ConnectedForPex();
            peer.Pex ??= new PexTracker(peer.ListenEndPoint);
            peer.Pex.Self ??= peer.ListenEndPoint;
            PexMessage? message = peer.Pex.NextMessage(connected, now);
            if (message is not null) peer.Send(new OutboundMessage(MessageId.Extended, remoteId, Data: message.Encode()));
        }
    }

    private Dictionary<IPEndPoint, PexFlags> ConnectedForPex()
    {
        var connected = new Dictionary<IPEndPoint, PexFlags>();
        foreach (PeerConnection peer in _peers.Values)
        {
            if (peer.ListenEndPoint is not { } listen) continue;
            PexFlags flags = PexFlags.None;
            if (_picker is not null && peer.Has.AllSet) flags |= PexFlags.Seed;
            if (!peer.Incoming) flags |= PexFlags.Reachable;
            connected[PexTracker.Normalize(listen)] = flags;
        }
        return connected;
    }

    // ---- requesting -----------------------------------------------------------------------------------

    private void UpdateInterest(PeerConnection peer)
    {
        bool interesting = _state == TorrentState.Downloading && _picker!.IsInteresting(peer.Has);
        if (interesting && !peer.AmInterested)
        {
            peer.AmInterested = true;
            peer.Send(new OutboundMessage(MessageId.Interested));
            RequestMore(peer);
        }
        else if (!interesting && peer.AmInterested)
        {
            peer.AmInterested = false;
            peer.Send(new OutboundMessage(MessageId.NotInterested));
        }
    }

    private void RequestMore(PeerConnection peer)
    {
        if (!peer.AmInterested || _state != TorrentState.Downloading) return;
        if (Volatile.Read(ref _queuedWrites) > WriteQueueHighWater)
        {
            _requestsPausedForDisk = true;
            return;
        }
        bool viaAllowedFast = peer.PeerChoking;
        if (viaAllowedFast && peer.AllowedFast.Count == 0) return;

        int depth = peer.IsSnubbed ? 1 : RequestQueue.Depth(peer.DownloadMeter.BytesPerSecond);
        int need = Math.Min(depth - peer.Outstanding.Count, 512);
        if (need <= 0) return;
        Span<BlockRequest> picks = stackalloc BlockRequest[need];
        int count = viaAllowedFast
            ? _picker!.PickAllowedFast(peer.Key, peer.Has, peer.AllowedFast, picks)
            : _picker!.PickBlocks(peer.Key, peer.Has, picks);
        if (count > 0 && peer.Outstanding.Count == 0) peer.LastBlockAt = _session.Time.GetTimestamp();
        for (int i = 0; i < count; i++)
        {
            BlockRequest request = picks[i];
            peer.Outstanding.Add(request);
            peer.Send(new OutboundMessage(MessageId.Request, request.Piece, request.Offset, request.Length));
        }
    }

    private void DropAllRequests(PeerConnection peer)
    {
        if (peer.Outstanding.Count == 0) return;
        foreach (BlockRequest request in peer.Outstanding) _picker?.OnRequestDropped(peer.Key, request);
        // Blocks already on their way (a choke voids requests without BEP 6; a snubbed peer may wake up) are
        // late, not unasked for: they must not count towards dropping the peer.
        ExpectLateBlocks(peer, peer.Outstanding.Count);
        peer.Outstanding.Clear();
    }

    /// <summary>Most dropped requests whose blocks may still arrive without counting as unexpected (16 MiB of 16 KiB blocks).</summary>
    private const int MaxLateBlocksExpected = 1024;

    private static void ExpectLateBlocks(PeerConnection peer, int count)
        => peer.CancelledInFlight = Math.Min(MaxLateBlocksExpected, peer.CancelledInFlight + count);

    // ---- disk -----------------------------------------------------------------------------------------

    private async Task WriteLoopAsync(ChannelReader<PendingWrite> reader, CancellationToken stop)
    {
        while (await reader.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
        {
            while (reader.TryRead(out PendingWrite write))
            {
                try
                {
                    if (stop.IsCancellationRequested) continue;
                    BlockWriteResult result = await _storage!.WriteBlockAsync(write.Block.Piece, write.Block.Offset,
                        write.Buffer.AsMemory(0, write.Block.Length), stop).ConfigureAwait(false);
                    if (result is BlockWriteResult.PieceVerified or BlockWriteResult.PieceFailed)
                        await _mailbox.Writer.WriteAsync(new TorrentEvent { Kind = TorrentEventKind.PieceHashed, Index = write.Block.Piece, WriteResult = result }, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                }
                catch (ChannelClosedException)
                {
                }
                catch (Exception ex)
                {
                    _mailbox.Writer.TryWrite(new TorrentEvent { Kind = TorrentEventKind.DiskFailed, Index = write.Block.Piece, Error = ex });
                }
                finally
                {
                    _session.Blocks.Return(write.Buffer);
                    if (Interlocked.Decrement(ref _queuedWrites) == WriteQueueLowWater && _requestsPausedForDisk)
                        TryPost(new TorrentEvent { Kind = TorrentEventKind.WritesDrained });
                }
            }
        }
    }

    private void OnPieceHashed(int piece, BlockWriteResult result)
    {
        _blockSenders.Remove(piece, out BlockSender[]? senders);
        if (result == BlockWriteResult.PieceVerified)
        {
            if (_failedSenders.Remove(piece, out BlockSender[]? failed) && _storage!.TakeCorruptBlocks(piece) is { } corrupt)
                SmartBan(piece, failed, corrupt);
            if (senders is not null && _senderArrays.Count < MaxPooledSenderArrays && senders.Length * PiecePicker.BlockLength >= _torrent!.PieceLength)
            {
                Array.Clear(senders); // no stale sender may be blamed for a later piece
                _senderArrays.Push(senders);
            }
            if (_have[piece]) return;
            _have[piece] = true;
            if (IsWanted(piece)) _verifiedBytes += _torrent!.GetPieceSize(piece);
            _picker!.OnPieceVerified(piece);
            bool shareable = IsShareable(piece);
            foreach (PeerConnection peer in _peers.Values)
            {
                if (!peer.Has[piece]) { if (shareable) peer.Send(new OutboundMessage(MessageId.Have, piece)); }
                // Only peers that had this piece can have become uninteresting through it.
                else if (peer.AmInterested) UpdateInterest(peer);
            }
            if (_picker.IsComplete) EnterSeeding();
            return;
        }

        _failedPieces++;
        _picker!.OnPieceFailed(piece);
        Log($"piece {piece} failed its hash check; fetching it again");
        if (senders is null) return;
        var contributors = new HashSet<int>();
        foreach (BlockSender sender in senders)
            if (sender.EndPoint is not null) contributors.Add(sender.Key);
        if (contributors.Count > 1 && _storage!.CanIdentifyCorruptBlocks(piece) && _failedSenders.Count < MaxFailedPiecesTracked)
        {
            // Several peers shared the piece: wait for the retry to verify, then compare block by block and
            // ban only whoever sent the blocks that differ (smart ban), not the innocent ones.
            _failedSenders[piece] = senders;
            return;
        }
        foreach (int key in contributors)
        {
            if (!_peers.TryGetValue(key, out PeerConnection? peer)) continue;
            // A lone contributor is certainly guilty. Without block digests (a piece written block by block),
            // one of several may be innocent, so it counts less.
            peer.HashFailures += contributors.Count == 1 ? MaxHashFailures : 1;
            if (peer.HashFailures >= MaxHashFailures) Ban(peer.EndPoint, peer.ListenEndPoint, peer.PeerId, peer.Client, $"sent data that failed the hash check of piece {piece}");
        }
    }

    /// <summary>Bans the senders of the blocks whose failed copy differed from the data that then verified.</summary>
    private void SmartBan(int piece, BlockSender[] failedSenders, int[] corruptBlocks)
    {
        var guilty = new HashSet<IPEndPoint>();
        foreach (int block in corruptBlocks)
        {
            if ((uint)block >= (uint)failedSenders.Length) continue;
            BlockSender sender = failedSenders[block];
            if (sender.EndPoint is { } endPoint && guilty.Add(endPoint))
                Ban(endPoint, sender.ListenEndPoint, sender.PeerId, sender.Client, $"sent corrupt data: block {block} of piece {piece} differed from the verified copy (smart ban)");
        }
    }

    /// <summary>
    /// Bans one offender (its endpoint, listen endpoint and peer id; its whole address only after offences from
    /// several of its endpoints, see <see cref="BanList"/>) and closes its connections. Neighbours on the same
    /// address (NAT, one host running several clients) keep trading.
    /// </summary>
    private void Ban(IPEndPoint endPoint, IPEndPoint? listenEndPoint, byte[]? peerId, string? client, string reason)
    {
        if (_bans.IsBanned(endPoint, peerId)) return;
        bool wholeAddress = _bans.Ban(endPoint, listenEndPoint, peerId);
        Log($"banned {endPoint} ({client ?? "unknown"}){(wholeAddress ? $" and the whole address {endPoint.Address} (offences from several of its endpoints)" : "")}: {reason}");
        foreach (PeerConnection peer in _peers.Values)
        {
            if (_bans.IsBanned(peer.EndPoint, peer.PeerId) || (peer.ListenEndPoint is { } listen && _bans.IsBanned(listen)))
                peer.Close("banned: " + reason);
        }
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
        if (!_have[piece]) _picker?.OnPieceFailed(piece);
        _blockSenders.Remove(piece);
        if (_state == TorrentState.Paused) return;
        _state = TorrentState.Paused;
        _error = storage.Message;
        _diskPausedAt = _session.Time.GetTimestamp();
        // Blocks in flight would only fail the same way: let them go and ask again after the pause.
        foreach (PeerConnection peer in _peers.Values)
        {
            foreach (BlockRequest request in peer.Outstanding)
                peer.Send(new OutboundMessage(MessageId.Cancel, request.Piece, request.Offset, request.Length));
            DropAllRequests(peer);
        }
        Log($"paused: {storage.Message}; retrying every {DiskRetryInterval.TotalSeconds:0} s");
        Publish();
    }

    private void ResumeAfterDiskPause(long now)
    {
        if (_state != TorrentState.Paused || _session.Time.GetElapsedTime(_diskPausedAt, now) < DiskRetryInterval) return;
        _state = TorrentState.Downloading;
        _error = null;
        Log("retrying after the disk error");
        foreach (PeerConnection peer in _peers.Values)
        {
            UpdateInterest(peer); // peers that joined during the pause were never told we want their pieces
            RequestMore(peer);
        }
    }

    private void EnterSeeding()
    {
        bool wasDownloading = _state == TorrentState.Downloading;
        _state = TorrentState.Seeding;
        if (wasDownloading)
        {
            Log("download complete; seeding");
            _downloadFinished.TrySetResult();
        }
        foreach (PeerConnection peer in _peers.Values)
        {
            if (peer.AmInterested)
            {
                peer.AmInterested = false;
                peer.Send(new OutboundMessage(MessageId.NotInterested));
            }
            DropAllRequests(peer);
            CloseIfBothSeeds(peer);
        }
        _status = BuildStatus();
        _completion.TrySetResult();
    }

    private void Fail(Exception error)
    {
        _error = error switch
        {
            StorageException storage => storage.Message,
            _ => error.Message,
        };
        _state = TorrentState.Error;
        Log("stopped on error: " + _error);
        _status = BuildStatus();
        _completion.TrySetException(new IOException(_error, error));
    }

    // ---- timers ---------------------------------------------------------------------------------------

    private void OnTick()
    {
        long now = _session.Time.GetTimestamp();
        TimeSpan elapsed = _session.Time.GetElapsedTime(_lastTick, now);
        _lastTick = now;
        long uploaded = _uploadedByClosedPeers;
        foreach (PeerConnection peer in _peers.Values)
        {
            peer.DownloadMeter.Sample(peer.Downloaded, elapsed);
            peer.UploadMeter.Sample(peer.Uploaded, elapsed);
            uploaded += peer.Uploaded;
            CheckTimeouts(peer, now);
            CheckMetadataRequest(peer, now);
            RequestMore(peer);
        }
        SendPex();
        _downloadMeter.Sample(_downloaded, elapsed);
        _uploadMeter.Sample(uploaded, elapsed);
        if (_session.Time.GetElapsedTime(_lastChoke, now) >= (_chokedOnce ? ChokeInterval : FirstChokeRound))
        {
            _lastChoke = now;
            _chokedOnce = true;
            RunChoker(now);
        }
        ResumeAfterDiskPause(now);
        DialMore();
        MaybeSaveResume(now);
        Publish();
    }

    // ---- resume data -----------------------------------------------------------------------------------

    /// <summary>Resume file of this torrent in this download folder; null when the session keeps none.</summary>
    private string? ResumePath()
    {
        if (_session.Options.ResumeDirectory is not { } directory) return null;
        // The same torrent downloaded into two folders must not share resume data.
        string folder = Path.GetFullPath(_options.DownloadDirectory);
        string folderKey = Convert.ToHexStringLower(System.Security.Cryptography.SHA1.HashData(System.Text.Encoding.UTF8.GetBytes(folder)))[..12];
        return Path.Combine(directory, $"{_infoHash.ToHex()}-{folderKey}.resume");
    }

    /// <summary>Starts a background save when new pieces were verified since the last one and the interval has passed.</summary>
    private void MaybeSaveResume(long now)
    {
        if (_storage is null || _picker is null || !_resumeSave.IsCompleted || _have.SetCount == _resumeSavedVerifiedCount) return;
        if (_session.Time.GetElapsedTime(_lastResumeSave, now) < ResumeSaveInterval && _state != TorrentState.Seeding) return;
        _lastResumeSave = now;
        _resumeSavedVerifiedCount = _have.SetCount;
        _resumeSave = Task.Run(SaveResumeAsync);
    }

    /// <summary>
    /// Flushes the data, then writes the resume file atomically (the storage's capture does the flush first, so
    /// the file never vouches for bytes that are not durable). Failures are logged: the next start then rehashes.
    /// </summary>
    private async Task SaveResumeAsync()
    {
        if (_storage is null || ResumePath() is not { } path) return;
        try
        {
            ResumeData resume = await _storage.CaptureResumeAsync(_infoHash).ConfigureAwait(false);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            ResumeFile.Save(path, resume);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            Log("resume data not saved: " + ex.Message);
        }
    }

    private void CheckTimeouts(PeerConnection peer, long now)
    {
        if (_session.Time.GetElapsedTime(peer.LastReceivedTimestamp, now) > InactivityTimeout)
        {
            peer.Close("inactive for too long");
            return;
        }
        if (_session.Time.GetElapsedTime(peer.LastSentTimestamp, now) > KeepAliveInterval)
            peer.Send(new OutboundMessage(MessageId.KeepAlive));
        if (peer.Outstanding.Count > 0 && !peer.IsSnubbed && _session.Time.GetElapsedTime(peer.LastBlockAt, now) > SnubTimeout)
        {
            // The peer sits on our requests: hand them to others and ask it for one block at a time.
            peer.IsSnubbed = true;
            DropAllRequests(peer);
            Log($"peer {peer.EndPoint} snubbed us");
        }
    }

    private void RunChoker(long now)
    {
        if (_peers.Count == 0) return;
        if (_chokeCandidates.Length < _peers.Count) _chokeCandidates = new ChokeCandidate[Math.Max(_peers.Count, _chokeCandidates.Length * 2)];
        ChokeCandidate[] candidates = _chokeCandidates;
        int i = 0;
        foreach (PeerConnection peer in _peers.Values)
        {
            candidates[i++] = new ChokeCandidate(peer.Key, peer.PeerInterested, peer.AmChoking,
                peer.DownloadMeter.BytesPerSecond, peer.UploadMeter.BytesPerSecond, peer.Uploaded,
                peer.Has.AllSet, peer.IsSnubbed, peer.Has.SetFraction);
        }
        _unchokeScratch.Clear();
        _choker.Decide(candidates.AsSpan(0, i), _state == TorrentState.Seeding, _session.Time.GetElapsedTime(_startedAt, now), _unchokeScratch);
        foreach (PeerConnection peer in _peers.Values)
        {
            bool unchoke = _unchokeScratch.Contains(peer.Key);
            if (unchoke && peer.AmChoking)
            {
                peer.AmChoking = false;
                peer.Send(new OutboundMessage(MessageId.Unchoke));
            }
            else if (!unchoke && !peer.AmChoking)
            {
                peer.Choke();
            }
        }
    }

    /// <summary>
    /// Unchokes interested peers straight away while regular slots are free, so a new peer starts at once
    /// rather than at the next choke round; the round then re-balances by rate. The optimistic slot is left
    /// to the choker (<see cref="FirstChokeRound"/>).
    /// </summary>
    private void UnchokeFreeSlots()
    {
        int slots = _session.Options.UnchokeSlots;
        int unchoked = 0;
        foreach (PeerConnection peer in _peers.Values)
            if (!peer.AmChoking) unchoked++;
        foreach (PeerConnection peer in _peers.Values)
        {
            if (unchoked >= slots) return;
            if (peer.AmChoking && peer.PeerInterested)
            {
                peer.AmChoking = false;
                peer.Send(new OutboundMessage(MessageId.Unchoke));
                unchoked++;
            }
        }
    }

    // ---- snapshots ------------------------------------------------------------------------------------

    private void Publish()
    {
        _status = BuildStatus();
        var peers = new PeerStatus[_peers.Count];
        int i = 0;
        foreach (PeerConnection peer in _peers.Values)
        {
            peers[i++] = new PeerStatus(peer.ConnectionId, peer.EndPoint, peer.PeerId, peer.Client, peer.Incoming,
                peer.Downloaded, peer.Uploaded, peer.DownloadMeter.BytesPerSecond, peer.UploadMeter.BytesPerSecond,
                peer.Has.SetFraction,
                peer.AmChoking, peer.PeerChoking, peer.AmInterested, peer.PeerInterested, peer.Source, peer.Encryption);
        }
        _peerSnapshot = peers;
    }

    private TorrentStatus BuildStatus()
    {
        long uploaded = _uploadedByClosedPeers;
        int seeds = 0, manual = 0, incoming = 0, tracker = 0, pex = 0, lsd = 0, dht = 0, encrypted = 0;
        foreach (PeerConnection peer in _peers.Values)
        {
            uploaded += peer.Uploaded;
            if (peer.Encryption != Transport.Encryption.PeerEncryption.None) encrypted++;
            if (_picker is not null && peer.Has.AllSet) seeds++;
            PeerSource source = peer.Source;
            if (source.HasFlag(PeerSource.Manual)) manual++;
            if (source.HasFlag(PeerSource.Incoming)) incoming++;
            if (source.HasFlag(PeerSource.Tracker)) tracker++;
            if (source.HasFlag(PeerSource.Pex)) pex++;
            if (source.HasFlag(PeerSource.Lsd)) lsd++;
            if (source.HasFlag(PeerSource.Dht)) dht++;
        }
        long total = _wantedBytes;
        int verified = _picker is null ? 0 : _have.SetCount;
        return new TorrentStatus(_state, total == 0 ? 0 : (double)_verifiedBytes / total, total, _verifiedBytes,
            _downloaded, uploaded, _downloadMeter.BytesPerSecond, _uploadMeter.BytesPerSecond, _peers.Count, seeds,
            verified, _have.Length, _failedPieces, _error, new PeerSourceCounts(manual, incoming, tracker, pex, lsd, dht), encrypted);
    }

    private void Log(string message) => _session.Log($"[{_torrent?.Name ?? _displayName}] {message}");

    /// <summary>Counts checked pieces without capturing a synchronization context.</summary>
    private sealed class CheckProgress(TorrentActor owner) : IProgress<int>
    {
        public void Report(int value) => Interlocked.Increment(ref owner._checkedPieces);
    }

    private readonly record struct PendingWrite(BlockRequest Block, byte[] Buffer);
}
