namespace Shoal.Swarm;

/// <summary>
/// The torrent's status and peer list as immutable snapshots, built on the actor's loop and read by anyone
/// without locks (a volatile reference swap), plus the rate meters they report. <paramref name="admission"/> tells
/// the last failed dial, for the status while no peer is connected.
/// </summary>
internal sealed class TorrentSnapshots(TorrentContext torrent, PeerAdmission admission)
{
    /// <summary>The search of a torrent that knows no address (shared: an idle torrent's status keeps it).</summary>
    private static readonly PeerSearch NothingKnown = new(0, PeerSourceCounts.None, 0, null);

    private volatile TorrentStatus? _status;
    private volatile IReadOnlyList<PeerStatus> _peers = [];
    private RateMeter _downloadMeter;
    private RateMeter _uploadMeter;

    /// <summary>The latest status (the actor publishes a first one when it is created).</summary>
    public TorrentStatus Status => _status!;

    /// <summary>The latest peer list.</summary>
    public IReadOnlyList<PeerStatus> Peers => _peers;

    /// <summary>Feeds the torrent-wide meters (per-peer meters are sampled by the tick).</summary>
    public void SampleRates(long uploaded, TimeSpan elapsed)
    {
        _downloadMeter.Sample(torrent.Downloaded, elapsed);
        _uploadMeter.Sample(uploaded, elapsed);
    }

    private TorrentState? _publishedState;

    /// <summary>The torrent has no peers left: its rates drop to zero (nothing samples them until peers come back).</summary>
    public void OnIdle()
    {
        _downloadMeter = default;
        _uploadMeter = default;
        Publish();
    }

    /// <summary>Publishes the status alone (a state change between ticks).</summary>
    public void PublishStatus() => SetStatus(BuildStatus());

    /// <summary>Publishes the status and the peer list.</summary>
    public void Publish()
    {
        SetStatus(BuildStatus());
        var peers = new PeerStatus[torrent.Peers.Count];
        int i = 0;
        foreach (PeerConnection peer in torrent.Peers.All)
        {
            peers[i++] = new PeerStatus(peer.ConnectionId, peer.EndPoint, peer.PeerId, peer.Client, peer.Incoming,
                peer.Downloaded, peer.Uploaded, peer.DownloadMeter.BytesPerSecond, peer.UploadMeter.BytesPerSecond,
                peer.Has.SetFraction,
                peer.AmChoking, peer.PeerChoking, peer.AmInterested, peer.PeerInterested, peer.Source, peer.Encryption)
            {
                Transport = peer.Protocol,
            };
        }
        _peers = peers;
    }

    /// <summary>Swaps the snapshot in; a new state goes into the session's event stream (the first one is the torrent's "added").</summary>
    private void SetStatus(TorrentStatus status)
    {
        _status = status;
        torrent.Session.StatusChanges.Mark(torrent.InfoHash);
        if (_publishedState == status.State) return;
        bool first = _publishedState is null;
        _publishedState = status.State;
        torrent.Session.TorrentStateChanged?.Invoke();
        if (!first)
            torrent.Session.Events.Publish(new SessionEvent(SessionEventKind.StateChanged, torrent.InfoHash,
                torrent.Torrent?.Name ?? torrent.DisplayName, status.State));
    }

    private TorrentStatus BuildStatus()
    {
        long uploaded = torrent.UploadedByClosedPeers;
        int seeds = 0, encrypted = 0, utp = 0;
        var sources = new SourceTally();
        long utpDownloaded = torrent.UtpDownloadedByClosedPeers, utpUploaded = torrent.UtpUploadedByClosedPeers;
        bool knowsPieces = torrent.Picker is not null;
        foreach (PeerConnection peer in torrent.Peers.All)
        {
            uploaded += peer.Uploaded;
            if (peer.Encryption != Transport.Encryption.PeerEncryption.None) encrypted++;
            if (peer.Protocol == Transport.TransportProtocol.Utp)
            {
                utp++;
                utpDownloaded += peer.Downloaded;
                utpUploaded += peer.Uploaded;
            }
            if (knowsPieces && peer.Has.AllSet) seeds++;
            sources.Add(peer.Source);
        }
        long total = torrent.Priorities?.WantedBytes ?? torrent.Torrent?.TotalSize ?? 0;
        int verified = knowsPieces ? torrent.Have.SetCount : 0;
        return new TorrentStatus(torrent.State, total == 0 ? 0 : (double)torrent.VerifiedBytes / total, total, torrent.VerifiedBytes,
            torrent.Downloaded, uploaded, _downloadMeter.BytesPerSecond, _uploadMeter.BytesPerSecond, torrent.Peers.Count, seeds,
            verified, torrent.Have.Length, torrent.FailedPieces, torrent.Error, sources.ToCounts(),
            encrypted, Volatile.Read(ref torrent.CheckedPieces), torrent.Peers.Count == 0 ? DescribeSearch() : null)
        {
            WebSeeds = torrent.WebSeeds?.Counts,
            Transports = Transports(utp, utpDownloaded, uploaded, utpUploaded),
        };
    }

    private TransportCounts Transports(int utp, long utpDownloaded, long uploaded, long utpUploaded)
    {
        int tcp = torrent.Peers.Count - utp;
        long tcpDownloaded = torrent.Downloaded - utpDownloaded, tcpUploaded = uploaded - utpUploaded;
        // The shared zero for a torrent that never moved a byte (an idle seed of a large session keeps its status).
        return (tcp | utp) == 0 && (tcpDownloaded | tcpUploaded | utpDownloaded | utpUploaded) == 0
            ? TransportCounts.None
            : new TransportCounts(tcp, utp, tcpDownloaded, tcpUploaded, utpDownloaded, utpUploaded);
    }

    /// <summary>What was tried to find a peer (built only while there is none: it walks the known addresses).</summary>
    private PeerSearch DescribeSearch()
    {
        int tried = 0;
        var sources = new SourceTally();
        IReadOnlyList<PeerCandidate> known = torrent.PeerList.All;
        foreach (PeerCandidate candidate in known)
        {
            if (candidate.Failures > 0) tried++;
            sources.Add(candidate.Source);
        }
        string? lastFailure = admission.LastDialFailure;
        return known.Count == 0 && lastFailure is null ? NothingKnown : new PeerSearch(known.Count, sources.ToCounts(), tried, lastFailure);
    }

    /// <summary>Peers counted by where they were found (a peer found several ways counts for each).</summary>
    private struct SourceTally
    {
        private int _manual, _incoming, _tracker, _pex, _lsd, _dht;

        public void Add(PeerSource source)
        {
            if (source.HasFlag(PeerSource.Manual)) _manual++;
            if (source.HasFlag(PeerSource.Incoming)) _incoming++;
            if (source.HasFlag(PeerSource.Tracker)) _tracker++;
            if (source.HasFlag(PeerSource.Pex)) _pex++;
            if (source.HasFlag(PeerSource.Lsd)) _lsd++;
            if (source.HasFlag(PeerSource.Dht)) _dht++;
        }

        // The shared zero when nothing was counted: the status of each of thousands of idle torrents keeps its counts.
        public readonly PeerSourceCounts ToCounts() => (_manual | _incoming | _tracker | _pex | _lsd | _dht) == 0
            ? PeerSourceCounts.None
            : new(_manual, _incoming, _tracker, _pex, _lsd, _dht);
    }
}
