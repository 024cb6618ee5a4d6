using Shoal.Metainfo;
using Shoal.Picking;
using Shoal.Storage;

namespace Shoal.Swarm;

/// <summary>
/// The state of one torrent that its actor and the small types it drives share: the torrent and its data, the
/// verified pieces, the picker, the peers, the counters. Read and written on the actor's loop only, so nothing here
/// is locked; the types that hold it each own one concern and keep their own state to themselves.
/// </summary>
internal sealed class TorrentContext
{
    public TorrentContext(SessionContext session, InfoHash infoHash, string displayName, TorrentOptions options, Torrent? torrent)
    {
        Session = session;
        InfoHash = infoHash;
        DisplayName = displayName;
        Options = options;
        Torrent = torrent;
        Random = session.NewRandom();
        Have = new BitField(torrent?.PieceCount ?? 0);
        StartedAt = session.Time.GetTimestamp();
        PeerList = new PeerList(session.Time.TimestampFrequency, new BanList(session.Time));
    }

    public SessionContext Session { get; }
    public InfoHash InfoHash { get; }

    /// <summary>The full v2 info-hash, when known (a v2 or hybrid torrent, or a magnet with btmh).</summary>
    public Sha256Hash? InfoHashV2 { get; init; }

    /// <summary>
    /// The other 20-byte hash the torrent is reached by: the truncated v2 hash of a hybrid known by its v1 hash; null
    /// when there is only one.
    /// </summary>
    public InfoHash? AlternateInfoHash => InfoHashV2 is { } v2 && v2.Truncate() != InfoHash ? v2.Truncate() : null;

    /// <summary>Most peers remembered as found under the alternate hash; beyond it they are dialled with the wire hash (a v2-only peer then refuses, and may still dial us).</summary>
    public const int MaxAlternateHashPeers = 4096;

    // Made for the first peer found under the alternate hash (only a hybrid has one): about 600 bytes that most
    // torrents never need.
    private System.Collections.Concurrent.ConcurrentDictionary<System.Net.IPEndPoint, byte>? _alternateHashPeers;

    /// <summary>Remembers peers found under <see cref="AlternateInfoHash"/> (any thread: trackers, the DHT, LSD).</summary>
    public void NoteAlternateHashPeers(System.Net.IPEndPoint[] peers)
    {
        if (AlternateInfoHash is null || peers.Length == 0) return;
        System.Collections.Concurrent.ConcurrentDictionary<System.Net.IPEndPoint, byte> known = LazyInitializer.EnsureInitialized(ref _alternateHashPeers);
        foreach (System.Net.IPEndPoint peer in peers)
        {
            if (known.Count >= MaxAlternateHashPeers) return;
            known.TryAdd(peer, 0);
        }
    }

    /// <summary>The hash a handshake to <paramref name="endPoint"/> names (any thread).</summary>
    public InfoHash HashToDial(System.Net.IPEndPoint endPoint) =>
        AlternateInfoHash is { } other && Volatile.Read(ref _alternateHashPeers)?.ContainsKey(endPoint) == true ? other : InfoHash;

    /// <summary>True when <paramref name="hash"/> names this torrent (its wire hash, or a hybrid's other one).</summary>
    public bool IsKnownBy(InfoHash hash) => hash == InfoHash || hash == AlternateInfoHash;
    public string DisplayName { get; }
    /// <summary>The torrent's options, kept current as the user changes priorities, limits and pausing (a restart starts from them).</summary>
    public TorrentOptions Options { get; set; }

    /// <summary>Paused by the user: <see cref="State"/> stays <see cref="TorrentState.Suspended"/> whatever else happens.</summary>
    public bool UserPaused { get; set; }

    /// <summary>What <see cref="State"/> shows while paused: <see cref="TorrentState.Suspended"/> or <see cref="TorrentState.Queued"/>.</summary>
    public TorrentState PausedState { get; set; } = TorrentState.Suspended;

    /// <summary>Files the storage was opened without (never written); a file leaving this set needs new storage.</summary>
    public IReadOnlySet<int>? StorageSkippedFiles { get; set; }
    public TimeProvider Time => Session.Time;

    /// <summary>This torrent's random choices (picker, choker), seeded from the session's.</summary>
    public Random Random { get; }

    /// <summary>When the torrent started (TimeProvider ticks).</summary>
    public long StartedAt { get; }

    /// <summary>The metainfo; null until a magnet link's metadata has arrived.</summary>
    public Torrent? Torrent { get; set; }

    /// <summary>The torrent's data on the session's disk service; null until the metadata is known.</summary>
    public ITorrentDisk? Storage { get; set; }

    /// <summary>Which blocks to ask for; null until the data check has ended.</summary>
    public PiecePicker? Picker { get; set; }

    /// <summary>How much each piece is wanted; null until the metadata is known.</summary>
    public PiecePriorities? Priorities { get; set; }

    /// <summary>Verified pieces (empty, of length 0, until the metadata is known).</summary>
    public BitField Have { get; set; }

    public TorrentState State { get; set; } = TorrentState.Checking;

    /// <summary>Why the torrent is paused or stopped on an error.</summary>
    public string? Error { get; set; }

    public PeerTable Peers { get; } = new();

    /// <summary>Addresses to dial, their back-off, and the bans.</summary>
    public PeerList PeerList { get; }

    /// <summary>The torrent's web seeds (BEP 19/17), set by the actor; their counts go into the status.</summary>
    public WebSeeds.WebSeedSources? WebSeeds { get; set; }

    // Counters for the status.
    public long Downloaded;
    public long UploadedByClosedPeers;
    public long UtpDownloadedByClosedPeers;
    public long UtpUploadedByClosedPeers;
    public long VerifiedBytes;
    public int FailedPieces;
    public int CheckedPieces;

    /// <summary>The private flag (BEP 27): no PEX, LSD or DHT. False until the metadata is known.</summary>
    public bool IsPrivate => Torrent?.IsPrivate == true;

    /// <summary>True while peers may join and be dialled (never while paused, not even during a check run while paused).</summary>
    public bool AcceptsPeers => !UserPaused && State is TorrentState.Checking or TorrentState.Downloading or TorrentState.Seeding
        or TorrentState.FetchingMetadata or TorrentState.Paused;

    public bool IsWanted(int piece) => Priorities?.IsWanted(piece) ?? true;

    /// <summary>Verified and every byte readable (in its files, or a kept copy): safe to announce and to upload.</summary>
    public bool IsShareable(int piece) => Have[piece] && Storage!.IsWhollyStored(piece);

    public long Now() => Session.Time.GetTimestamp();

    public void Log(string message) => Session.Log($"[{Torrent?.Name ?? DisplayName}] {message}");
}
