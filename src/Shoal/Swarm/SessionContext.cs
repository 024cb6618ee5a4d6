using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using Shoal.Dht;
using Shoal.Metainfo;
using Shoal.Storage;
using Shoal.Transport;
using Shoal.Transport.Encryption;
using Shoal.Wire;

namespace Shoal.Swarm;

/// <summary>
/// What a session shares with its torrents: identity, options, clock, the session-wide rate limits, the
/// connection budget, and the dial and handshake logic common to incoming and outgoing connections.
/// </summary>
internal sealed class SessionContext
{
    /// <summary>Time from dialling (or accepting) to a complete BitTorrent handshake.</summary>
    public static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(10);
    private readonly Random _random;
    private readonly Lock _randomGate = new();
    private int _connections;
    private long _nextConnectionId;
    private readonly Dictionary<AddressKey, int> _handshakes = [];
    private readonly Lock _handshakesGate = new();
    private IPAddress? _externalAddress;
    private SessionOptions _options;

    public SessionContext(SessionOptions options)
    {
        _options = options;
        _random = options.RandomSeed is int seed ? new Random(seed) : new Random();
        PeerId = PeerIdentity.NewPeerId(options.RandomSeed is null ? null : NewRandom());
        UploadLimit = new RateLimiter(options.MaxUploadRate, options.Time);
        DownloadLimit = new RateLimiter(options.MaxDownloadRate, options.Time);
        Scheduler = new SessionScheduler(options.Time);
        PeerMemory = new PeerMemoryBudget(options.MaxPeerMemory, new BlockMemoryPool(), new BlockBufferPool(), options.Time);
        Encryption = new EncryptionNegotiator(options.Encryption, HandshakeTimeout, options.Time,
            options.Logger is not null || options.Log is not null ? message => Log("[encryption] " + message) : null);
    }

    /// <summary>
    /// The session's options as they are now: the settings a running session changes (limits, slots, encryption, DHT,
    /// LSD, PEX) replace the record, so every reader sees the new values from its next read.
    /// </summary>
    public SessionOptions Options
    {
        get => Volatile.Read(ref _options);
        set => Volatile.Write(ref _options, value);
    }

    /// <summary>Writes every torrent's resume file in batches, one flush per batch.</summary>
    public ResumeWriter ResumeWriter { get; } = new();

    /// <summary>Drives the torrents' periodic work: one timer for the session, idle torrents not visited.</summary>
    public SessionScheduler Scheduler { get; }
    public TimeProvider Time => Options.Time;
    public byte[] PeerId { get; }

    /// <summary>
    /// A generator of its own for one part of the session (a torrent's picker, its choker), drawn from the session's:
    /// with <see cref="SessionOptions.RandomSeed"/> set, the parts are seeded in the order they are created.
    /// </summary>
    public Random NewRandom()
    {
        lock (_randomGate) return new Random(_random.Next());
    }
    public RateLimiter UploadLimit { get; }
    public RateLimiter DownloadLimit { get; }

    /// <summary>
    /// The ceiling on memory held for peers, over every torrent (<see cref="SessionOptions.MaxPeerMemory"/>), with the
    /// two buffer pools it counts.
    /// </summary>
    public PeerMemoryBudget PeerMemory { get; }

    /// <summary><see cref="PeerMemoryBudget.IsUnderPressure"/> as one delegate for every torrent (not one each).</summary>
    public Func<bool> PeerMemoryUnderPressure => _peerMemoryUnderPressure ??= () => PeerMemory.IsUnderPressure;

    private Func<bool>? _peerMemoryUnderPressure;

    /// <summary>
    /// Socket buffers for every connection of the session. The shared pool allocates a wrapper per rent;
    /// this one reuses its blocks, so steady traffic allocates nothing.
    /// </summary>
    public BlockMemoryPool SocketMemory => PeerMemory.SocketMemory;

    /// <summary>
    /// MSE/PE per <see cref="SessionOptions.Encryption"/>: wraps every connection before the BitTorrent handshake
    /// (<see cref="EncryptionNegotiator.ConnectAsync"/> when dialling, <see cref="EncryptionNegotiator.AcceptAsync"/> when
    /// accepting). The session keeps its <see cref="EncryptionNegotiator.Torrents"/> index in step with its torrents.
    /// </summary>
    public EncryptionNegotiator Encryption { get; }

    /// <summary>Buffers for received blocks, on their way from the socket to the disk.</summary>
    public BlockBufferPool Blocks => PeerMemory.Blocks;

    /// <summary>
    /// Our handshake's reserved bits for a torrent: the extension protocol (BEP 10), the fast extension (BEP 6), with a
    /// DHT BEP 5, and BEP 52's v2 bit only for a torrent that has a v2 info-hash (<paramref name="v2"/>).
    /// </summary>
    /// <remarks>
    /// The v2 bit offers to upgrade the connection to the torrent's v2 hash. On a v1-only torrent there is nothing to
    /// upgrade to, and libtorrent 2.0 closes such a handshake at once (it looks for a v2 torrent that is not there),
    /// so setting it there cut Shoal off from every libtorrent seeder it dialled in the clear.
    /// </remarks>
    public ReservedBits ReservedFor(bool v2) => ReservedBits.Create(extension: true, fast: true, dht: Dht is not null, v2: v2);

    /// <summary>The session's DHT node, once started; null when the DHT is off.</summary>
    public DualStackDht? Dht { get; set; }

    /// <summary>
    /// The session's UDP port (IPv4 and IPv6 sockets), shared by the protocols on it through claims (the DHT's KRPC
    /// today, uTP next: see <see cref="Transport.Udp.UdpSocket.Claim"/>); null when nothing needs UDP or it could not bind.
    /// </summary>
    public Transport.Udp.UdpSocketPair? Udp { get; set; }

    /// <summary>uTP runs on the session's UDP port (so hole punching, BEP 55, can too).</summary>
    public bool UtpRuns { get; set; }

    /// <summary>The port peers can reach us on (advertised in the extension handshake).</summary>
    public int ListenPort { get; set; }

    /// <summary>
    /// The ways to reach a peer, in the order they are tried (TCP alone today); a peer's dial tries first the one that
    /// last worked for it.
    /// </summary>
    public IReadOnlyList<IPeerConnector> Connectors { get; set; } = [];

    /// <summary>
    /// Runs a joined connection's I/O until it ends (its receive and send loops over the transport). A simulated
    /// network replaces it to move the connection's messages itself.
    /// </summary>
    public Func<PeerConnection, PeerLoopContext, Task> RunPeer { get; init; } = static (peer, loops) => peer.RunAsync(loops);

    /// <summary>The session's HTTP client for web seeds; null when the session has none (a simulation).</summary>
    public WebSeeds.WebSeedClient? WebSeeds { get; set; }

    /// <summary>The session's port mapper, when port mapping runs; null otherwise.</summary>
    public PortMapping.PortMapper? PortMapper { get; set; }

    /// <summary>Our address as the internet sees it, when a gateway told us (port mapping); null until then.</summary>
    public IPAddress? ExternalAddress
    {
        get => Volatile.Read(ref _externalAddress);
        set => Volatile.Write(ref _externalAddress, value);
    }

    /// <summary>
    /// The port announced to trackers and the DHT: the external port the gateway forwards to our listen port when it
    /// granted another one, else the listen port.
    /// </summary>
    public int AnnouncePort => PortMapper?.Mappings.FirstOrDefault(m => m.Protocol == PortMapping.PortMappingProtocol.Tcp
        && m.InternalPort == ListenPort && m.ExternalPort is not null)?.ExternalPort ?? ListenPort;

    /// <summary>
    /// True when <paramref name="endPoint"/> is where this session listens: its bind address and port, or with a wildcard
    /// bind, the port on a loopback address or on any address of this machine's interfaces; or, when a gateway maps a
    /// port for us, our external address and that port. Nobody should make us dial
    /// ourselves (a PEX message or a tracker may name us); the handshake would catch it, but only after a connection.
    /// </summary>
    public bool IsOwnListenEndPoint(IPEndPoint endPoint)
    {
        IPAddress address = endPoint.Address.IsIPv4MappedToIPv6 ? endPoint.Address.MapToIPv4() : endPoint.Address;
        // Behind a mapped gateway, a tracker hands us back our own external address and announced port.
        if (ExternalAddress is { } external && address.Equals(external) && endPoint.Port == AnnouncePort) return true;
        if (endPoint.Port != ListenPort || ListenPort == 0) return false;
        IPAddress bind = Options.BindAddress;
        if (!bind.Equals(IPAddress.Any) && !bind.Equals(IPAddress.IPv6Any)) return address.Equals(bind);
        return IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || LocalAddresses.Value.Contains(address);
    }

    /// <summary>This machine's interface addresses, read once (a wildcard-bound session listens on all of them).</summary>
    private Lazy<HashSet<IPAddress>> LocalAddresses { get; } = new(ReadLocalAddresses);

    private static HashSet<IPAddress> ReadLocalAddresses()
    {
        var addresses = new HashSet<IPAddress>();
        try
        {
            foreach (System.Net.NetworkInformation.NetworkInterface nic in System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces())
                foreach (System.Net.NetworkInformation.UnicastIPAddressInformation unicast in nic.GetIPProperties().UnicastAddresses)
                    addresses.Add(unicast.Address);
        }
        catch (System.Net.NetworkInformation.NetworkInformationException)
        {
            // Without the list, a peer naming one of our addresses is dialled once and refused at the handshake.
        }
        return addresses;
    }

    /// <summary>Why <paramref name="endPoint"/> is never dialled (<see cref="RemoteEndPointRules"/>, or ourselves); null when it may be.</summary>
    public string? WhyNotDial(IPEndPoint endPoint) =>
        RemoteEndPointRules.WhyNotRemote(endPoint) ?? (IsOwnListenEndPoint(endPoint) ? "our own listen address" : null);

    /// <summary>Connections open or being opened, session-wide.</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Writes a line to the session's logger (<see cref="SessionOptions.Logger"/>, else <see cref="SessionOptions.Log"/>).</summary>
    public void Log(string message)
    {
        if (Options.Logger is { } logger) SessionLog.Message(logger, message);
        else Options.Log?.Invoke(message);
    }

    /// <summary>Told (on the torrent's loop, so it must not wait) when a torrent's state changed: the queue plans again.</summary>
    public Action? TorrentStateChanged { get; set; }

    /// <summary>The torrents whose status changed since the session's last status pass.</summary>
    public StatusChanges StatusChanges { get; } = new();

    /// <summary>The session's event stream (added, state changed, finished, ...).</summary>
    public SessionEvents Events { get; } = new();

    public long NextConnectionId() => Interlocked.Increment(ref _nextConnectionId);

    /// <summary>Takes one slot of the session's connection budget; false when none is left.</summary>
    public bool TryReserveConnection()
    {
        while (true)
        {
            int current = Volatile.Read(ref _connections);
            if (current >= Options.MaxConnections) return false;
            if (Interlocked.CompareExchange(ref _connections, current + 1, current) == current) return true;
        }
    }

    public void ReleaseConnection() => Interlocked.Decrement(ref _connections);

    /// <summary>
    /// Counts an incoming handshake from <paramref name="address"/>; false when that address (an IPv6 /64) already has
    /// <see cref="SessionOptions.MaxConnectionsPerAddress"/> in progress, so one host opening connections and saying
    /// nothing cannot hold every slot until the handshake timeout. Pair with <see cref="EndHandshake"/>.
    /// </summary>
    public bool TryBeginHandshake(IPAddress address)
    {
        AddressKey key = AddressKey.From(address);
        lock (_handshakesGate)
        {
            int count = _handshakes.GetValueOrDefault(key);
            if (count >= Options.MaxConnectionsPerAddress) return false;
            _handshakes[key] = count + 1;
            return true;
        }
    }

    /// <summary>The handshake counted by <see cref="TryBeginHandshake"/> ended, one way or the other.</summary>
    public void EndHandshake(IPAddress address)
    {
        AddressKey key = AddressKey.From(address);
        lock (_handshakesGate)
        {
            int count = _handshakes.GetValueOrDefault(key) - 1;
            if (count > 0) _handshakes[key] = count;
            else _handshakes.Remove(key);
        }
    }

    /// <summary>
    /// Dials a peer for <paramref name="actor"/> (a connection slot is already reserved) through the connectors,
    /// <paramref name="preferred"/> (the one that last worked for it) first, and posts the outcome: PeerJoined after a
    /// valid handshake, DialFailed otherwise.
    /// </summary>
    public async Task DialAsync(TorrentActor actor, IPEndPoint endPoint, string? preferred, CancellationToken cancellationToken, bool preferredOnly = false)
    {
        PeerTransport? transport = null;
        InfoHash hash = actor.HashToDial(endPoint);
        try
        {
            // Encryption hook: the negotiator connects (twice when Prefer falls back to plaintext) through the
            // connectors, and sends our handshake, inside the encrypted handshake or in the clear; each attempt has
            // its own deadline.
            string? connector = null;
            transport = await Encryption.ConnectAsync(endPoint, async token =>
            {
                // A second attempt (Prefer falling back to plaintext) goes through the connector that reached the peer.
                (PeerTransport connected, connector) = await ConnectAsync(endPoint, connector ?? preferred, token, preferredOnly).ConfigureAwait(false);
                return connected;
            }, hash, HandshakeBytes(hash, actor.HasV2InfoHash), cancellationToken).ConfigureAwait(false);
            using var timeout = new Deadline(HandshakeTimeout, Time, cancellationToken);
            Handshake handshake = await ReadHandshakeAsync(transport.Input, timeout.Token).ConfigureAwait(false);
            // A hybrid torrent's peer may answer with the v2 hash (BEP 52's upgrade): either of ours is fine.
            if (!actor.IsKnownBy(handshake.InfoHash)) throw new WireProtocolException("peer answered with another info-hash");
            var joined = new PendingPeer(transport, handshake, false, endPoint) { Connector = connector };
            if (actor.TryPost(new TorrentEvent { Kind = TorrentEventKind.PeerJoined, Payload = joined })) return;
            throw new InvalidOperationException("torrent is not accepting peers");
        }
        catch (Exception ex)
        {
            if (transport is not null) await DisposeQuietlyAsync(transport).ConfigureAwait(false);
            if (!actor.TryPost(new TorrentEvent { Kind = TorrentEventKind.DialFailed, Payload = endPoint, Error = ex }))
                ReleaseConnection();
        }
    }

    /// <summary>
    /// Connects through the connectors, <paramref name="preferred"/> (the one that last worked for the peer, or uTP for
    /// a peer known to speak it) first, then the others in order, skipping those that cannot reach the address; each
    /// next one starts when the previous failed or had <see cref="ConnectorHeadStart"/> without an answer, and the
    /// first connection made wins (see <see cref="StaggeredConnect"/>). With <paramref name="preferredOnly"/> only
    /// <paramref name="preferred"/> is tried (a BEP 55 hole punch is uTP or nothing). Throws the last failure when
    /// none succeeds.
    /// </summary>
    internal async ValueTask<(PeerTransport Transport, string Connector)> ConnectAsync(IPEndPoint endPoint, string? preferred,
        CancellationToken cancellationToken, bool preferredOnly = false)
    {
        var order = new List<IPeerConnector>(Connectors.Count);
        foreach (IPeerConnector connector in Connectors)
            if (connector.Name == preferred && connector.CanReach(endPoint)) order.Add(connector);
        if (!preferredOnly)
        {
            foreach (IPeerConnector connector in Connectors)
                if (connector.Name != preferred && connector.CanReach(endPoint)) order.Add(connector);
        }
        if (order.Count == 0) throw new InvalidOperationException($"no connector can reach {endPoint}");
        (PeerTransport transport, IPeerConnector used) = await StaggeredConnect.ConnectAsync(order, endPoint, ConnectorHeadStart, Time, cancellationToken)
            .ConfigureAwait(false);
        return (transport, used.Name);
    }

    /// <summary>
    /// How long a dial's first connector (uTP unless TCP worked last time) has the peer to itself before the next one
    /// starts too: a uTP peer answers a SYN within one round trip; one that does not costs this much, not libtorrent's
    /// whole uTP connect timeout.
    /// </summary>
    public TimeSpan ConnectorHeadStart { get; init; } = DefaultConnectorHeadStart;

    /// <summary>Default of <see cref="ConnectorHeadStart"/>.</summary>
    public static readonly TimeSpan DefaultConnectorHeadStart = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Answers an accepted connection: reads the remote handshake, finds its torrent, answers with ours and
    /// hands the connection to the torrent's actor. Owns one reserved connection slot and one handshake counted by
    /// <see cref="TryBeginHandshake"/>.
    /// </summary>
    public async Task AcceptAsync(PeerTransport transport, string acceptor, Func<InfoHash, TorrentActor?> findTorrent, CancellationToken cancellationToken)
    {
        IPAddress address = transport.RemoteEndPoint.Address;
        try
        {
            // Encryption hook: tells a plain handshake from an encrypted one and applies the mode; an encrypted
            // connection comes back wrapped, its input replaying the peer's BitTorrent handshake.
            transport = await Encryption.AcceptAsync(transport, cancellationToken).ConfigureAwait(false);
            using var timeout = new Deadline(HandshakeTimeout, Time, cancellationToken);
            Handshake handshake = await ReadHandshakeAsync(transport.Input, timeout.Token).ConfigureAwait(false);
            if (transport is EncryptedTransport { StreamKey: var streamKey } && !streamKey.Span.SequenceEqual(handshake.InfoHash.Span))
                throw new WireProtocolException("the encrypted handshake and the BitTorrent handshake name different torrents");
            TorrentActor actor = findTorrent(handshake.InfoHash)
                ?? throw new WireProtocolException($"unknown info-hash {handshake.InfoHash}");
            await WriteHandshakeAsync(transport.Output, handshake.InfoHash, actor.HasV2InfoHash, timeout.Token).ConfigureAwait(false); // the hash it asked by (v1 or v2)
            var joined = new PendingPeer(transport, handshake, true, null) { Connector = acceptor };
            if (!actor.TryPost(new TorrentEvent { Kind = TorrentEventKind.PeerJoined, Payload = joined }))
                throw new InvalidOperationException("torrent is busy");
        }
        catch (Exception ex)
        {
            Log($"incoming {transport.RemoteEndPoint} refused: {ex.Message}");
            await DisposeQuietlyAsync(transport).ConfigureAwait(false);
            ReleaseConnection();
        }
        finally
        {
            EndHandshake(address);
        }
    }

    private async ValueTask WriteHandshakeAsync(PipeWriter output, InfoHash infoHash, bool v2, CancellationToken cancellationToken)
    {
        new Handshake(infoHash, PeerId, ReservedFor(v2)).WriteTo(output);
        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private byte[] HandshakeBytes(InfoHash infoHash, bool v2)
    {
        var bytes = new byte[Handshake.Length];
        new Handshake(infoHash, PeerId, ReservedFor(v2)).WriteTo(bytes);
        return bytes;
    }

    private static async ValueTask<Handshake> ReadHandshakeAsync(PipeReader input, CancellationToken cancellationToken)
    {
        while (true)
        {
            ReadResult result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = result.Buffer;
            bool parsed = false;
            Handshake handshake = default;
            try
            {
                parsed = Handshake.TryParse(ref buffer, out handshake);
            }
            finally
            {
                if (parsed) input.AdvanceTo(buffer.Start);
                else input.AdvanceTo(buffer.Start, buffer.End);
            }
            if (parsed) return handshake;
            if (result.IsCompleted) throw new WireProtocolException("connection closed during the handshake");
        }
    }

    private async Task DisposeQuietlyAsync(PeerTransport transport)
    {
        try { await transport.DisposeAsync().ConfigureAwait(false); }
        catch (Exception ex) { Log($"closing {transport.RemoteEndPoint} failed: {ex.Message}"); }
    }
}
