using System.Net;
using Microsoft.Extensions.Logging;
using Shoal.Dht;
using Shoal.Discovery;
using Shoal.PortMapping;
using Shoal.Storage;
using Shoal.Transport.Encryption;

namespace Shoal.Swarm;

/// <summary>Settings of one <see cref="ShoalSession"/>: sockets, limits, identity.</summary>
public sealed record SessionOptions
{
    /// <summary>Address the listener binds to.</summary>
    public IPAddress BindAddress { get; init; } = IPAddress.Any;

    /// <summary>
    /// Listen port, one number for TCP, uTP and the DHT (the session's UDP port); 0 picks one that is free in both TCP
    /// and UDP (read it back from <see cref="ShoalSession.ListenEndPoint"/>).
    /// </summary>
    public int ListenPort { get; init; } = 6881;

    /// <summary>
    /// uTP (BEP 29) on the session's UDP port: incoming uTP connections are accepted, and dials try uTP first, TCP a
    /// moment later when the peer does not answer (libtorrent's and qBittorrent's "TCP and uTP"). Off: TCP only.
    /// </summary>
    public bool EnableUtp { get; init; } = true;

    /// <summary>
    /// TCP peer connections. Off (with <see cref="EnableUtp"/> on): uTP only, as qBittorrent's "uTP" protocol setting:
    /// no TCP dials, and incoming TCP connections are closed at once (the port stays bound, so the number is ours).
    /// At least one of the two must be on.
    /// </summary>
    public bool EnableTcp { get; init; } = true;

    /// <summary>
    /// Which unsolicited incoming connections are accepted, by the remote address (an IP filter; tests use it to play a
    /// NAT or firewall): a TCP connection it refuses is closed at once, a uTP SYN is ignored (as a firewall drops it).
    /// A uTP SYN from an endpoint the session is dialling itself is not unsolicited (a BEP 55 hole punch meets that
    /// way) and is accepted. Null accepts everyone (within the connection limits and bans). Must be cheap and thread-safe.
    /// </summary>
    public Func<IPEndPoint, bool>? IncomingFilter { get; init; }

    /// <summary>Most peer connections over all torrents; beyond it new connections are refused.</summary>
    public int MaxConnections { get; init; } = 200;

    /// <summary>Most peer connections of one torrent.</summary>
    public int MaxConnectionsPerTorrent { get; init; } = 60;

    /// <summary>
    /// Ceiling on the memory the session holds for its peers, in bytes: messages queued for them, payloads received
    /// and not handled yet, blocks on their way to the disk and socket buffers. At the ceiling no new peer is
    /// admitted, metadata requests are refused, and reading from peers pauses until the queues drain. Each peer
    /// is also held to a few MiB on its own (a peer that stops reading is dropped).
    /// </summary>
    public long MaxPeerMemory { get; init; } = 256L * 1024 * 1024;

    /// <summary>
    /// Most connections of one torrent from one address (an IPv6 /64), and most handshakes in progress from one
    /// address: several, since users behind one NAT share an address, but far fewer than
    /// <see cref="MaxConnectionsPerTorrent"/>, so one host cannot take every slot. A swarm run on one machine
    /// (tests, benchmarks, the demo) raises it.
    /// </summary>
    public int MaxConnectionsPerAddress { get; init; } = 8;

    /// <summary>
    /// A torrent at its connection limit lets a newcomer replace a peer that has been connected this long without
    /// any payload either way (see <see cref="ConnectionAdmission"/>). Tests shorten it.
    /// </summary>
    internal TimeSpan ReplaceIdlePeersAfter { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Global upload cap in bytes per second; 0 is unlimited.</summary>
    public long MaxUploadRate { get; init; }

    /// <summary>Global download cap in bytes per second; 0 is unlimited.</summary>
    public long MaxDownloadRate { get; init; }

    /// <summary>
    /// Torrents downloading (or checking, or fetching metadata) at once; the others wait as <see cref="TorrentState.Queued"/>
    /// in queue order (<see cref="TorrentHandle.QueuePosition"/>). Negative: no limit. Change it with
    /// <see cref="ShoalSession.SetQueueLimitsAsync"/>.
    /// </summary>
    public int MaxActiveDownloads { get; init; } = -1;

    /// <summary>Torrents seeding at once; the others wait as <see cref="TorrentState.Queued"/>. Negative: no limit.</summary>
    public int MaxActiveSeeds { get; init; } = -1;

    /// <summary>
    /// The seeding goals of every torrent without goals of its own (<see cref="TorrentOptions.SeedingGoals"/>); null: none.
    /// Change them with <see cref="ShoalSession.SetSeedingGoals"/>.
    /// </summary>
    public SeedingGoals? SeedingGoals { get; init; }

    /// <summary>Regular (tit-for-tat) unchoke slots per torrent; one optimistic slot comes on top.</summary>
    public int UnchokeSlots { get; init; } = 4;

    /// <summary>Client name sent to peers (BEP 10 'v' later) and encoded in the peer id prefix.</summary>
    public string ClientName { get; init; } = ShoalVersion.ClientName;

    /// <summary>
    /// Message Stream Encryption (MSE/PE): Prefer dials encrypted first and falls back to plaintext, accepting both;
    /// Require makes and accepts only RC4-encrypted connections; Disable only plain ones.
    /// </summary>
    public EncryptionMode Encryption { get; init; } = EncryptionMode.Prefer;

    /// <summary>Clock for every timer of the session; tests pass a fake one.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>
    /// Seed of every random choice the session makes (piece picking, choking, its peer id, tracker keys): a session
    /// given a seed and a virtual <see cref="Time"/> replays exactly. Null seeds from the operating system.
    /// </summary>
    public int? RandomSeed { get; init; }

    /// <summary>
    /// Most data files open at once over every torrent of the session (its file pool): past it the least recently
    /// used idle file is closed, so a session of thousands of torrents stays far below the usual limit of 1,024
    /// descriptors per process. Default 128. Running out of descriptors anyway (a low limit, many sockets) closes every
    /// idle file and retries; a torrent that still cannot open its files pauses with that error and tries again.
    /// </summary>
    public int MaxOpenFiles { get; init; } = Storage.DiskService.DefaultMaxOpenFiles;

    /// <summary>
    /// Once the process has gone quiet after a burst of work (adding or checking thousands of torrents), give the memory
    /// that burst used back to the operating system: one blocking collection, at most once a minute. Default on; turn
    /// it off in an application that manages the garbage collector itself.
    /// </summary>
    public bool ReturnMemoryWhenIdle { get; init; } = true;

    /// <summary>The managed heap as the idle-memory release reads it (tests script it); null: the runtime's.</summary>
    internal IManagedMemory? ManagedMemory { get; init; }

    /// <summary>Disk operations allowed in flight at once (reads, writes, hashing).</summary>
    public int DiskConcurrency { get; init; } = 4;

    /// <summary>
    /// Bytes of each torrent's most recently written data left in the OS page cache; older written data is dropped
    /// from it once on disk. Null leaves it all to the OS. See <see cref="Storage.StorageOptions.OsCacheWindow"/>.
    /// </summary>
    public long? OsCacheWindow { get; init; } = Storage.StorageOptions.DefaultOsCacheWindow;

    /// <summary>The mainline DHT (BEP 5): find peers of a torrent with no tracker.</summary>
    public bool EnableDht { get; init; } = true;

    /// <summary>
    /// The DHT node's settings; null runs it on UDP at the session's listen port and address with the public
    /// bootstrap routers and no saved state. The session binds its UDP port itself, at the TCP listen port's number
    /// (its <see cref="DhtNodeOptions.Port"/> is not used; its bind addresses are).
    /// </summary>
    public DhtNodeOptions? Dht { get; init; }

    /// <summary>
    /// Ask the local gateway to forward the listen port (TCP, and UDP for the DHT) through UPnP IGD and PCP/NAT-PMP,
    /// in the background; it also tells the session its external address. Off by itself when the session binds a
    /// loopback address (no gateway can forward to it).
    /// </summary>
    public bool EnablePortMapping { get; init; } = true;

    /// <summary>Port mapping settings; null uses the defaults with the session's clock and log.</summary>
    public PortMappingOptions? PortMapping { get; init; }

    /// <summary>
    /// Peer exchange (BEP 11): peers tell each other about the peers they know (never for private torrents). Change it
    /// with <see cref="ShoalSession.SetPexEnabled"/>.
    /// </summary>
    public bool EnablePex { get; init; } = true;

    /// <summary>Local service discovery (BEP 14): find peers of the same torrents on the local network.</summary>
    public bool EnableLocalDiscovery { get; init; } = true;

    /// <summary>LSD sockets and limits; null uses the BEP 14 multicast groups.</summary>
    public LsdOptions? LocalDiscovery { get; init; }

    /// <summary>
    /// Where fast-resume data is kept when the embedder holds it (a database); it replaces <see cref="ResumeDirectory"/>.
    /// </summary>
    public IResumeStore? ResumeStore { get; init; }

    /// <summary>
    /// Folder for fast-resume files (one per torrent and download folder); null keeps none, so every start
    /// rehashes the data on disk. With it, a restart trusts the pieces verified before, in files whose length
    /// and last-write time have not changed, and rehashes only the rest.
    /// </summary>
    public string? ResumeDirectory { get; init; }

    /// <summary>How web seeds (BEP 19 'url-list', BEP 17 'httpseeds') are used: connections per server, timeouts, retries.</summary>
    public WebSeeds.WebSeedOptions WebSeeds { get; init; } = new();

    /// <summary>
    /// Where the session logs (connections refused, trackers failing, pieces failing their check, disk errors...), at
    /// Information level; null falls back to <see cref="Log"/>.
    /// </summary>
    public ILogger? Logger { get; init; }

    /// <summary>Where log lines go when no <see cref="Logger"/> is given (the CLI's plain lines); both null discard them.</summary>
    public Action<string>? Log { get; init; }
}
