using System.Collections.Concurrent;
using System.Net;
using Shoal.Dht;
using Shoal.Discovery;
using Shoal.Metainfo;
using Shoal.PortMapping;
using Shoal.Storage;
using Shoal.Trackers;
using Shoal.Transport;

namespace Shoal.Swarm;

/// <summary>
/// One BitTorrent node: owns the listen socket, the disk service, the global limits and every torrent.
/// Several sessions can live in one process; they share nothing.
/// </summary>
public sealed partial class ShoalSession : IAsyncDisposable
{
    private readonly SessionContext _context;
    private readonly SessionSockets _sockets;
    private readonly IReadOnlyList<IPeerAcceptor> _acceptors;
    private readonly DiskService _disk;
    private readonly ConcurrentDictionary<InfoHash, SessionTorrent> _torrents = new();
    // A hybrid torrent's second hash (the truncated v2 one when it is known by its v1 hash): incoming handshakes, LSD
    // and DHT answers may name either. Keys of _torrents stay one per torrent.
    private readonly ConcurrentDictionary<InfoHash, SessionTorrent> _alternateHashes = new();
    private readonly Http.GuardedHttpClient _trackerHttp;
    private readonly TrackerClientFactory _trackerClients;
    private readonly CancellationTokenSource _shutdown = new();
    private readonly Task[] _acceptLoops;
    private LocalServiceDiscovery? _localDiscovery;
    private Task _localDiscoveryLoop = Task.CompletedTask;
    private CancellationTokenSource? _localDiscoveryStop;
    private readonly Task _seedingGoalsLoop;
    private readonly Task _idleMemoryLoop;

    /// <summary>DHT announce period of a torrent that has enough peers (libtorrent uses the same).</summary>
    private static readonly TimeSpan DhtAnnounceInterval = TimeSpan.FromMinutes(15);

    /// <summary>DHT lookup period of a torrent that is short of peers or still needs its metadata.</summary>
    private static readonly TimeSpan DhtHungryInterval = TimeSpan.FromSeconds(30);

    /// <summary>Retry period when an announce reached no node (the routing table was still empty).</summary>
    private static readonly TimeSpan DhtRetryInterval = TimeSpan.FromSeconds(5);

    /// <summary>Below this many connected peers a torrent asks the DHT more often.</summary>
    private const int DhtHungryPeerCount = 8;

    /// <summary>Redirects followed per tracker request (libtorrent's bound too).</summary>
    private const int MaxTrackerRedirects = 5;

    /// <summary>BEP 14 asks for an announce every five minutes per torrent.</summary>
    private static readonly TimeSpan LocalAnnounceInterval = TimeSpan.FromMinutes(5);
    private int _disposed;

    private ShoalSession(SessionContext context, SessionSockets sockets)
    {
        _context = context;
        _sockets = sockets;
        // Where peers reach us, and how we reach them: TCP, and uTP on the shared UDP port (one acceptor per family).
        _acceptors = sockets.Acceptors();
        context.Connectors = sockets.Connectors(context);
        _disk = new DiskService(context.Options.DiskConcurrency, context.Time, context.Options.MaxOpenFiles);
        // Trackers and web seeds are URLs a torrent names: both go through the SSRF mitigation, read at each request.
        Func<bool> ssrfMitigation = () => _context.Options.SsrfMitigation;
        _trackerHttp = new Http.GuardedHttpClient(() => new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) },
            context.Options.AddressClassifier, ssrfMitigation, MaxTrackerRedirects, ShoalVersion.UserAgent);
        _trackerClients = new TrackerClientFactory(_trackerHttp, context.Time);
        context.WebSeeds = new WebSeeds.WebSeedClient(context.Options.WebSeeds, context.Time, UserAgent(context.Options.ClientName),
            context.Options.AddressClassifier, ssrfMitigation);
        _acceptLoops = [.. _acceptors.Select(acceptor => Task.Run(() => AcceptLoopAsync(acceptor)))];
        _maxActiveDownloads = context.Options.MaxActiveDownloads;
        _maxActiveSeeds = context.Options.MaxActiveSeeds;
        context.TorrentStateChanged = RequestReplan;
        _seedingGoals = context.Options.SeedingGoals;
        _seedingGoalsLoop = Task.Run(SeedingGoalsLoopAsync);
        _idleMemoryLoop = context.Options.ReturnMemoryWhenIdle
            ? Task.Run(() => IdleMemoryLoopAsync(context.Options.ManagedMemory ?? RuntimeManagedMemory.Instance))
            : Task.CompletedTask;
        if (context.Options.EnableLocalDiscovery) StartLocalDiscovery();
    }

    /// <summary>
    /// Where local discovery announces: on the interface the session listens on. A session bound to one IPv4 address
    /// announces there and not on the machine's default interface, where its announces would name an address nobody can
    /// reach it on (libtorrent announces on each listening interface); nor in the IPv6 group, which it does not listen
    /// on. Options given with an interface of their own are used as they are.
    /// </summary>
    internal static LsdOptions LocalDiscoveryOn(SessionOptions options)
    {
        LsdOptions lsd = options.LocalDiscovery ?? new LsdOptions { TimeProvider = options.Time };
        IPAddress bound = options.BindAddress;
        bool oneIpv4Address = bound.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && !bound.Equals(IPAddress.Any);
        return oneIpv4Address && lsd.Ipv4Interface is null ? lsd with { Ipv4Interface = bound, Ipv6Group = null } : lsd;
    }

    /// <summary>Starts local service discovery and its announce loop; false (logged) when the machine has no multicast.</summary>
    private bool StartLocalDiscovery()
    {
        try
        {
            _localDiscovery = new LocalServiceDiscovery(LocalDiscoveryOn(_context.Options), OnLocalPeer);
        }
        catch (Exception ex) when (ex is System.Net.Sockets.SocketException or InvalidOperationException)
        {
            // A machine without multicast still shares through every other channel.
            _context.Log("local service discovery is off: " + ex.Message);
            return false;
        }
        _localDiscoveryStop = CancellationTokenSource.CreateLinkedTokenSource(_shutdown.Token);
        CancellationToken stop = _localDiscoveryStop.Token;
        _localDiscoveryLoop = Task.Run(() => LocalDiscoveryLoopAsync(stop));
        return true;
    }

    /// <summary>Stops local service discovery: its loop ends, its sockets close.</summary>
    private async Task StopLocalDiscoveryAsync()
    {
        if (_localDiscovery is not { } discovery) return;
        _localDiscovery = null;
        _localDiscoveryStop?.Cancel();
        await _localDiscoveryLoop.ConfigureAwait(false);
        _localDiscoveryStop?.Dispose();
        _localDiscoveryStop = null;
        await discovery.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Binds the listener and starts the session. Throws <see cref="System.Net.Sockets.SocketException"/> when
    /// the port is taken or the address cannot be bound.
    /// </summary>
    public static async Task<ShoalSession> StartAsync(SessionOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        cancellationToken.ThrowIfCancellationRequested();
        var context = new SessionContext(options);
        SessionSockets sockets = SessionSockets.Bind(context);
        context.ListenPort = sockets.Listener.LocalEndPoint.Port;
        context.Udp = sockets.Udp;
        context.UtpRuns = sockets.UtpRuns;
        try
        {
            if (options.EnableDht && context.Udp is not null) context.Dht = await StartDhtAsync(context, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await sockets.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        var session = new ShoalSession(context, sockets);
        session.StartPortMapping();
        return session;
    }

    /// <summary>Starts forwarding the listen port at the gateway, in the background (start-up never waits for it).</summary>
    private void StartPortMapping()
    {
        SessionOptions options = _context.Options;
        if (!options.EnablePortMapping) return;
        if (IPAddress.IsLoopback(options.BindAddress))
        {
            _context.Log($"port mapping is off: the session listens on {options.BindAddress}, which no gateway can forward to");
            return;
        }
        PortMappingOptions mapping = options.PortMapping is { } given
            ? given with { Log = given.Log ?? _context.Log }
            : new PortMappingOptions { Time = options.Time, Log = _context.Log };
        var mapper = new PortMapper(mapping);
        mapper.ExternalAddressChanged += address =>
        {
            _context.ExternalAddress = address;
            ExternalAddressChanged?.Invoke(address);
        };
        var ports = new List<MappingRequest> { new(PortMappingProtocol.Tcp, _context.ListenPort) };
        // The session's UDP port: the DHT's, and uTP's once it shares the socket.
        if (_context.Udp is { } udp) ports.Add(new MappingRequest(PortMappingProtocol.Udp, udp.LocalEndPoint.Port));
        _context.PortMapper = mapper;
        mapper.Start(ports);
    }

    /// <summary>Our address as the internet sees it, once a gateway told us (port mapping); null until then.</summary>
    public IPAddress? ExternalAddress => _context.ExternalAddress;

    /// <summary>
    /// Raised (on a background thread) when port mapping learns a new external address: what a BEP 42 DHT node id
    /// derives from, and what the BEP 10 handshake reports as our "ipv4"/"ipv6".
    /// </summary>
    public event Action<IPAddress>? ExternalAddressChanged;

    /// <summary>The port mappings asked of the gateway and their state; empty when port mapping is off.</summary>
    public IReadOnlyList<PortMappingStatus> PortMappings => _context.PortMapper?.Mappings ?? [];

    private static async Task<DualStackDht?> StartDhtAsync(SessionContext context, CancellationToken cancellationToken)
    {
        DhtNodeOptions options = context.Options.Dht ?? new DhtNodeOptions
        {
            Port = context.ListenPort,
            BindAddress = context.Options.BindAddress,
        };
        options = options with { Port = context.ListenPort, Log = options.Log ?? (message => context.Log("[dht] " + message)) };
        // The session owns the UDP port (one socket per family, BEP 32, bound with the TCP port: SessionSockets); the
        // DHT claims its KRPC datagrams on it, beside uTP. A host without IPv6 runs IPv4 alone.
        var node = new DualStackDht(options, context.Time, context.Udp!);
        try
        {
            await node.StartAsync(cancellationToken).ConfigureAwait(false);
            return node;
        }
        catch
        {
            await node.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The session's scheduler of periodic torrent work.</summary>
    internal SessionScheduler Scheduler => _context.Scheduler;

    /// <summary>The session's DHT node; null when the DHT is off or could not bind its port.</summary>
    public DualStackDht? Dht => _context.Dht;

    /// <summary>Data files the session holds open now (at most <see cref="SessionOptions.MaxOpenFiles"/> but while every one is in use).</summary>
    public int OpenFiles => _disk.OpenFiles;

    /// <summary>The session's writer of resume files (diagnostics, tests).</summary>
    internal ResumeWriter ResumeWriter => _context.ResumeWriter;

    /// <summary>Times the system refused a descriptor and the file pool closed its idle files to go on (diagnostics, tests).</summary>
    internal long DescriptorShortages => _disk.Files.DescriptorShortages;

    /// <summary>Where the session accepts peers.</summary>
    public IPEndPoint ListenEndPoint => _sockets.Listener.LocalEndPoint;

    /// <summary>Our 20-byte peer id.</summary>
    public ReadOnlyMemory<byte> PeerId => _context.PeerId;

    /// <summary>Torrents currently in the session.</summary>
    public IReadOnlyList<TorrentHandle> Torrents => [.. _torrents.Values.Select(t => t.Handle!)];

    /// <summary>
    /// Adds a torrent: checks the data already in <see cref="TorrentOptions.DownloadDirectory"/>, then
    /// downloads what is missing and uploads what it has. Returns once the torrent is registered.
    /// Throws <see cref="StorageException"/> when the torrent's files cannot live in that folder, and
    /// <see cref="InvalidOperationException"/> when the torrent is already in the session.
    /// </summary>
    public async Task<TorrentHandle> AddTorrentAsync(Torrent torrent, TorrentOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(torrent);
        ArgumentNullException.ThrowIfNull(options);
        ThrowIfCannotAdd(torrent.InfoHash, cancellationToken);
        if (torrent.InfoHashV2 is { } v2) ThrowIfCannotAdd(v2.Truncate(), cancellationToken);
        PieceVerifiers.For(torrent); // a torrent it cannot verify is refused before any file is copied for it
        options = WithRenamedFiles(torrent, options);
        // v2: files another torrent here holds whole (the same pieces root) are copied in, not downloaded again.
        if (torrent.HasV2 && !options.SeedOnly && options.Storage is null)
            await IdenticalFiles.ReuseAsync(torrent, options.DownloadDirectory, CompleteV2Torrents(), _context.Log, cancellationToken).ConfigureAwait(false);
        TorrentStorage storage = OpenStorage(torrent, options);
        var actor = new TorrentActor(_context, torrent.InfoHash, torrent.Name, torrent, storage, options, t => OpenStorage(t, options));
        return Register(actor, torrent.AnnounceTiers.Concat(options.Trackers.Select(url => (IReadOnlyList<string>)[url])));
    }

    private IEnumerable<IdenticalFiles.Source> CompleteV2Torrents() =>
        from entry in _torrents.Values
        let actor = entry.Actor
        where actor.Torrent is { HasV2: true } && actor.Status is { PieceCount: > 0 } status && status.VerifiedPieces == status.PieceCount
            && actor.Options.Storage is null
        select new IdenticalFiles.Source(actor.Torrent!, actor.Options.DownloadDirectory);

    /// <summary>
    /// Adds a torrent known only by its magnet link: the info dictionary is fetched from peers (BEP 9) and
    /// checked against the info-hash, then the data downloads as for <see cref="AddTorrentAsync"/>. The
    /// link's x.pe peers are dialled along with <see cref="TorrentOptions.Peers"/>, its ws= web seeds used once the metadata is known.
    /// </summary>
    public Task<TorrentHandle> AddMagnetAsync(MagnetLink magnet, TorrentOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(magnet);
        ArgumentNullException.ThrowIfNull(options);
        ThrowIfCannotAdd(magnet.InfoHash, cancellationToken);
        if (magnet.InfoHashV2 is { } v2) ThrowIfCannotAdd(v2.Truncate(), cancellationToken);
        var peers = new List<IPEndPoint>(options.Peers);
        foreach (string peer in magnet.Peers)
        {
            // x.pe carries literal addresses in practice; a host name would need DNS, which the caller can do.
            if (IPEndPoint.TryParse(peer, out IPEndPoint? endPoint) && endPoint.Port != 0) peers.Add(endPoint);
            else _context.Log($"magnet peer '{peer}' skipped: not an IP:port");
        }
        TorrentOptions withPeers = options with
        {
            Peers = peers,
            SelectedFiles = options.SelectedFiles is { Count: > 0 } ? options.SelectedFiles : magnet.SelectedFiles,
            WebSeeds = [.. options.WebSeeds, .. magnet.WebSeeds],
        };
        string name = magnet.DisplayName ?? magnet.InfoHash.ToHex();
        var actor = new TorrentActor(_context, magnet.InfoHash, name, null, null, withPeers, t => OpenStorage(t, withPeers), magnet.InfoHashV2);
        return Task.FromResult(Register(actor, magnet.Trackers.Concat(options.Trackers).Select(url => (IReadOnlyList<string>)[url])));
    }

    private void ThrowIfCannotAdd(InfoHash infoHash, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        cancellationToken.ThrowIfCancellationRequested();
        if (_torrents.ContainsKey(infoHash) || _alternateHashes.ContainsKey(infoHash))
            throw new InvalidOperationException($"torrent {infoHash} is already in the session");
    }

    private TorrentStorage OpenStorage(Torrent torrent, TorrentOptions options)
    {
        IPieceVerifier verifier = PieceVerifiers.For(torrent); // first: a torrent it cannot verify is refused before anything else
        var layout = StorageLayout.FromTorrent(torrent, options.RenamedFiles);
        var storageOptions = new StorageOptions
        {
            SkippedFiles = SkippedFiles(torrent, options),
            PartsDirectory = options.SeedOnly ? null : PartsDirectory(options.DownloadDirectory, torrent.InfoHash),
            ReadOnly = options.SeedOnly,
            OsCacheWindow = _context.Options.OsCacheWindow,
        };
        return options.Storage is { } open
            ? TorrentStorage.Create(_disk, layout, verifier, open(layout), storageOptions)
            : TorrentStorage.Create(_disk, layout, verifier, options.DownloadDirectory, storageOptions);
    }

    /// <summary>
    /// Where a torrent keeps the pieces that straddle a file it does not download: a hidden folder named after the
    /// info-hash in the download folder, as libtorrent's <c>.HASH.parts</c> file.
    /// </summary>
    internal static string PartsDirectory(string downloadDirectory, InfoHash infoHash) =>
        Path.Combine(downloadDirectory, "." + infoHash.ToHex() + ".parts");

    /// <summary>The files <paramref name="options"/> skip (by selection or by priority); null when none.</summary>
    internal static HashSet<int>? SkippedFiles(Torrent torrent, TorrentOptions options)
    {
        HashSet<int>? skipped = SkippedFiles(torrent, options.SelectedFiles);
        if (options.FilePriorities is { } priorities)
        {
            for (int f = 0; f < Math.Min(priorities.Count, torrent.Files.Count); f++)
                if (priorities[f] == Picking.FilePriority.Skip) (skipped ??= []).Add(f);
        }
        return skipped;
    }

    /// <summary>The complement of a file selection; null when everything is wanted.</summary>
    internal static HashSet<int>? SkippedFiles(Torrent torrent, IReadOnlyList<int>? selected)
    {
        if (selected is not { Count: > 0 }) return null;
        var skipped = new HashSet<int>(Enumerable.Range(0, torrent.Files.Count));
        skipped.ExceptWith(selected);
        return skipped.Count == 0 || skipped.Count == torrent.Files.Count && !selected.Any(i => (uint)i < (uint)torrent.Files.Count)
            ? null // nothing deselected, or a selection of nothing real: download everything rather than nothing
            : skipped;
    }

    private TorrentHandle Register(TorrentActor actor, IEnumerable<IReadOnlyList<string>> trackerTiers)
    {
        var entry = new SessionTorrent(actor, [.. trackerTiers]);
        entry.Handle = new TorrentHandle(this, entry);
        if (!_torrents.TryAdd(actor.InfoHash, entry))
            throw new InvalidOperationException($"torrent {actor.InfoHash} is already in the session");
        TorrentHandle handle = entry.Handle;
        WatchOwnGoals(entry);
        foreach (InfoHash other in actor.InfoHashes.Skip(1)) _alternateHashes.TryAdd(other, entry);
        foreach (InfoHash hash in actor.InfoHashes) _context.Encryption.Torrents.Add(hash); // findable by encrypted incoming handshakes
        entry.QueueOrder = Interlocked.Increment(ref _lastQueueOrder);
        entry.UserPaused = entry.ActorPaused = actor.CurrentOptions.StartPaused;
        if (!entry.ActorPaused && !QueueUnlimited)
        {
            // The queue decides before the torrent runs at all (the plan below starts it at once if a slot is free).
            actor.PauseBeforeStart(TorrentState.Queued);
            entry.ActorPaused = true;
            SetQueued(entry, true);
        }
        actor.Start();
        _context.Events.Publish(new SessionEvent(SessionEventKind.Added, actor.InfoHash, actor.Name, actor.Status.State));
        if (!entry.ActorPaused) StartAnnouncing(entry);
        RequestReplan();
        return handle;
    }

    /// <summary>Starts what finds peers for a running torrent: its trackers, the DHT, local discovery.</summary>
    private void StartAnnouncing(SessionTorrent entry)
    {
        TorrentActor actor = entry.Actor;
        entry.Trackers = TorrentTrackers.Start(_context, _trackerClients, actor, entry.TrackerTiers);
        _ = AnnounceLocallyAsync([.. actor.InfoHashes]);
        StartDhtAnnounces(entry);
    }

    /// <summary>Starts the DHT announce loops of a running torrent (none when the DHT is off).</summary>
    private void StartDhtAnnounces(SessionTorrent entry)
    {
        if (_context.Dht is not { } dht || entry.DhtStop is not null) return;
        TorrentActor actor = entry.Actor;
        var stop = CancellationTokenSource.CreateLinkedTokenSource(_shutdown.Token);
        entry.DhtStop = stop;
        foreach (InfoHash hash in actor.InfoHashes) _ = RunDhtAnnouncesAsync(dht, entry, actor, hash, stop.Token); // a hybrid: both swarms
    }

    /// <summary>Ends the DHT announce loops of a torrent.</summary>
    private static void StopDhtAnnounces(SessionTorrent entry)
    {
        if (entry.DhtStop is not { } dhtStop) return;
        entry.DhtStop = null;
        dhtStop.Cancel();
        dhtStop.Dispose();
    }

    /// <summary>Stops announcing a torrent that pauses, restarts or leaves: trackers hear "stopped", the DHT loop ends.</summary>
    private static async Task StopAnnouncingAsync(SessionTorrent entry)
    {
        StopDhtAnnounces(entry);
        if (entry.Trackers is { } trackers)
        {
            entry.Trackers = null;
            await trackers.DisposeAsync().ConfigureAwait(false);
            entry.LastTrackerStatus = trackers.GetStatus();
        }
    }

    /// <summary>
    /// Finds peers of one torrent through the DHT and announces that we have it, for as long as the torrent
    /// runs: at once, then often while it is short of peers, then every 15 minutes.
    /// </summary>
    private async Task RunDhtAnnouncesAsync(DualStackDht dht, SessionTorrent entry, TorrentActor actor, InfoHash infoHash, CancellationToken stop)
    {
        try
        {
            while (FindTorrent(actor.InfoHash) == actor && entry.Actor == actor)
            {
                bool reachedNobody = false;
                if (!actor.IsPrivate)
                {
                    try
                    {
                        DhtLookupResult result = await dht.AnnounceAsync(infoHash, _context.AnnouncePort, impliedPort: false, stop).ConfigureAwait(false);
                        if (result.Peers.Count > 0) actor.AddPeers([.. result.Peers], PeerSource.Dht, underAlternateHash: infoHash != actor.InfoHash);
                        // Right after start the table may still be bootstrapping: try again soon.
                        reachedNobody = result.AnnouncedTo == 0;
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        _context.Log($"DHT lookup for {infoHash} failed: {ex.Message}");
                    }
                }
                TorrentStatus status = actor.Status;
                bool hungry = status.State is TorrentState.FetchingMetadata or TorrentState.Downloading && status.Peers < DhtHungryPeerCount;
                // With no peer at all the torrent cannot move: ask again soon (the first announces of the
                // other peers may simply not have reached the DHT yet).
                TimeSpan wait = reachedNobody || (hungry && status.Peers == 0) ? DhtRetryInterval
                    : hungry ? DhtHungryInterval : DhtAnnounceInterval;
                await Task.Delay(wait, _context.Time, stop).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException && stop.IsCancellationRequested)
        {
        }
    }

    private void OnLocalPeer(InfoHash infoHash, IPEndPoint endPoint)
    {
        if (FindTorrent(infoHash) is { IsPrivate: false } actor) actor.AddPeers([endPoint], PeerSource.Lsd, underAlternateHash: infoHash != actor.InfoHash);
    }

    private async Task LocalDiscoveryLoopAsync(CancellationToken stop)
    {
        try
        {
            while (true)
            {
                await Task.Delay(LocalAnnounceInterval, _context.Time, stop).ConfigureAwait(false);
                await AnnounceLocallyAsync([.. _torrents.Values.SelectMany(t => t.Actor.InfoHashes)]).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    private async Task AnnounceLocallyAsync(IReadOnlyList<InfoHash> infoHashes)
    {
        if (_localDiscovery is not { } discovery) return;
        // A magnet torrent's private flag is unknown until its metadata arrives; BEP 27 forbids LSD only
        // for torrents known to be private.
        InfoHash[] announced = [.. infoHashes.Where(h => FindTorrent(h) is { IsPrivate: false } actor && actor.Status.State is not (TorrentState.Suspended or TorrentState.Queued))];
        if (announced.Length == 0) return;
        try
        {
            await discovery.AnnounceAsync(announced, ListenEndPoint.Port, _shutdown.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    private static async Task StopTorrentAsync(SessionTorrent entry)
    {
        // Trackers hear "stopped" while the torrent's final counters are still readable.
        await StopAnnouncingAsync(entry).ConfigureAwait(false);
        await entry.Actor.StopAsync().ConfigureAwait(false);
    }

    private async Task AcceptLoopAsync(IPeerAcceptor acceptor)
    {
        CancellationToken stop = _shutdown.Token;
        while (!stop.IsCancellationRequested)
        {
            PeerTransport transport;
            try
            {
                transport = await acceptor.AcceptAsync(stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (Exception ex)
            {
                // A failed accept (for example a connection reset before we took it) says nothing about the next one.
                _context.Log("accept failed: " + ex.Message);
                continue;
            }
            // TCP's own rules first (uTP only, the filter: uTP applies them to the SYN), then the same bounds for both.
            string? refusal = acceptor is PeerListener ? IncomingTcpRefusal(transport.RemoteEndPoint) : null;
            refusal ??= _context.PeerMemory.IsFull ? "memory for peers is at its ceiling"
                : !_context.TryReserveConnection() ? "connection limit reached"
                : null;
            if (refusal is null && !_context.TryBeginHandshake(transport.RemoteEndPoint.Address))
            {
                _context.ReleaseConnection();
                refusal = $"too many handshakes from {ConnectionAdmission.Describe(transport.RemoteEndPoint.Address)} at once";
            }
            if (refusal is not null)
            {
                _context.Log($"incoming {transport.RemoteEndPoint} refused: {refusal}");
                transport.Abort();
                _ = transport.DisposeAsync().AsTask();
                continue;
            }
            _ = _context.AcceptAsync(transport, acceptor.Name, FindTorrent, stop);
        }
    }

    /// <summary>"Shoal/0.1" from the client name "Shoal 0.1": the product token HTTP servers log.</summary>
    private static string UserAgent(string clientName) => clientName.Trim().Replace(' ', '/');

    /// <summary>Why an incoming TCP connection is closed at once (uTP's are filtered at the SYN); null when it is welcome.</summary>
    private string? IncomingTcpRefusal(IPEndPoint remote)
    {
        if (!_context.Options.EnableTcp) return "TCP is off (uTP only)";
        if (_context.Options.IncomingFilter is { } filter && !filter(remote)) return "filtered";
        return null;
    }

    private TorrentActor? FindTorrent(InfoHash infoHash) =>
        _torrents.TryGetValue(infoHash, out SessionTorrent? entry) || _alternateHashes.TryGetValue(infoHash, out entry) ? entry.Actor : null;

    /// <summary>Stops every torrent, closes every connection and the listener.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _shutdown.Cancel();
        // Deletes the gateway's forwarding while everything else stops (bounded by the mapping's removal timeout).
        Task unmapped = _context.PortMapper?.DisposeAsync().AsTask() ?? Task.CompletedTask;
        foreach (IPeerAcceptor acceptor in _acceptors) await acceptor.DisposeAsync().ConfigureAwait(false);
        await _seedingGoalsLoop.ConfigureAwait(false);
        await _idleMemoryLoop.ConfigureAwait(false);
        await StopLocalDiscoveryAsync().ConfigureAwait(false);
        try { await Task.WhenAll(_acceptLoops).ConfigureAwait(false); } catch (Exception ex) { _context.Log("accept loop ended with " + ex.Message); }
        await Task.WhenAll(_torrents.Values.Select(StopTorrentAsync)).ConfigureAwait(false);
        _torrents.Clear();
        _context.Events.Complete();
        _trackerHttp.Dispose();
        _context.WebSeeds?.Dispose();
        if (_context.Dht is { } dht) await dht.DisposeAsync().ConfigureAwait(false);
        await _sockets.DisposeAsync().ConfigureAwait(false); // uTP, then the UDP port (the DHT is closed), then TCP
        await _context.Scheduler.DisposeAsync().ConfigureAwait(false);
        await _disk.DisposeAsync().ConfigureAwait(false);
        await unmapped.ConfigureAwait(false);
        _context.SocketMemory.Dispose();
        _shutdown.Dispose();
    }
}
