using System.Net;

namespace Shoal.Swarm;

/// <summary>
/// Who is connected: admits or refuses a handshaken connection (bans, ourselves, duplicates, then the connection limits
/// of <see cref="ConnectionAdmission"/>), starts its loops, records who left, learns the addresses worth dialling,
/// dials candidates from the <see cref="PeerList"/> within the half-open and connection limits, and bans offenders.
/// Single-threaded (the torrent actor drives it).
/// </summary>
internal sealed class PeerAdmission(TorrentContext torrent, TorrentActor actor, PeerLoopContext loops, CancellationToken stopping)
{
    /// <summary>Dials in progress at once per torrent.</summary>
    private const int MaxHalfOpen = 8;

    private AdmissionRules _rules = AdmissionRules.From(torrent.Session.Options, torrent.Options.MaxConnections);
    private SessionOptions _rulesOf = torrent.Session.Options;
    private int _rulesOwnLimit = torrent.Options.MaxConnections;

    /// <summary>The limits now: rebuilt when the session's options or the torrent's own connection limit changed.</summary>
    private AdmissionRules Rules
    {
        get
        {
            SessionOptions options = torrent.Session.Options;
            int own = torrent.Options.MaxConnections;
            if (!ReferenceEquals(options, _rulesOf) || own != _rulesOwnLimit)
            {
                _rules = AdmissionRules.From(options, own);
                _rulesOf = options;
                _rulesOwnLimit = own;
            }
            return _rules;
        }
    }
    private int _halfOpen;

    /// <summary>The last failed dial ("address: reason"), for telling the user why no peer is connected.</summary>
    public string? LastDialFailure { get; private set; }

    /// <summary>
    /// Learns an address to dial from <paramref name="source"/>, unless it can be no peer or is ourselves
    /// (<see cref="SessionContext.WhyNotDial"/>), or a gossip source names one more port of an address that already has
    /// <see cref="AdmissionRules.MaxPerAddress"/> candidates (BEP 11: one host under many ports would aim our dials at it).
    /// </summary>
    public void AddCandidate(IPEndPoint endPoint, PeerSource source)
    {
        if (endPoint.Address.IsIPv4MappedToIPv6) endPoint = new IPEndPoint(endPoint.Address.MapToIPv4(), endPoint.Port);
        PeerList list = torrent.PeerList;
        if (list.Find(endPoint) is { } known)
        {
            known.Source |= source;
            return;
        }
        if (torrent.Session.WhyNotDial(endPoint) is { } notAPeer)
        {
            // Gossip is not worth a line per entry (PEX is also capped per peer); what a user or tracker named is.
            if (source is not (PeerSource.Incoming or PeerSource.Pex)) torrent.Log($"not dialling {endPoint} ({source}): {notAPeer}");
            return;
        }
        if (source == PeerSource.Pex && list.CountAt(endPoint.Address) >= Rules.MaxPerAddress) return;
        list.Add(endPoint, source);
    }

    /// <summary>
    /// A connection finished its handshake. Returns the new peer (its loops running), or null when it was refused
    /// (the connection is then closed and its slot returned).
    /// </summary>
    public PeerConnection? Admit(PendingPeer pending)
    {
        long now = torrent.Now();
        if (pending.DialedEndPoint is { } dialed)
        {
            _halfOpen--;
            torrent.PeerList.OnConnected(dialed, now, pending.Connector);
        }
        string? refusal = RefusalReason(pending, now) ?? AdmissionRefusal(pending, now);
        if (refusal is not null)
        {
            if (pending.DialedEndPoint is { } ep) torrent.PeerList.OnRefused(ep, now, isSelf: refusal == "connection to ourselves");
            torrent.Log($"refused {pending.Transport.RemoteEndPoint}: {refusal}");
            _ = DropAsync(pending);
            return null;
        }

        var peer = new PeerConnection(torrent.Peers.NextKey(), torrent.Session.NextConnectionId(), pending, torrent.Have.Length, now,
            torrent.Session.PeerMemory, torrent.Time);
        peer.Source = pending.DialedEndPoint is { } source && torrent.PeerList.Find(source) is { } known
            ? known.Source
            : PeerSource.Incoming;
        torrent.Peers.Add(peer, torrent.Session.RunPeer(peer, loops));
        torrent.Log($"peer {peer.EndPoint} joined ({peer.Client}, {(peer.Incoming ? "incoming" : "outgoing")}, {Transport.TransportProtocolNames.Display(peer.Protocol)}, {Transport.Encryption.PeerEncryptionNames.Describe(peer.Encryption)})");
        return peer;
    }

    /// <summary>
    /// A peer's loops ended. False when it was not connected (already forgotten); otherwise its address backs off
    /// before it is dialled again.
    /// </summary>
    public bool OnClosed(PeerConnection peer, Exception? error)
    {
        if (!torrent.Peers.Remove(peer)) return false;
        torrent.UploadedByClosedPeers += peer.Uploaded;
        if (peer.Protocol == Transport.TransportProtocol.Utp)
        {
            torrent.UtpDownloadedByClosedPeers += peer.Downloaded;
            torrent.UtpUploadedByClosedPeers += peer.Uploaded;
        }
        if ((peer.DialedEndPoint ?? peer.ListenEndPoint) is { } address) torrent.PeerList.OnDisconnected(address, torrent.Now());
        torrent.Log($"peer {peer.EndPoint} left: {peer.CloseReason ?? error?.Message ?? "closed"}");
        return true;
    }

    public void OnDialFailed(IPEndPoint endPoint, Exception? error)
    {
        torrent.Session.ReleaseConnection();
        _halfOpen--;
        torrent.PeerList.OnDialFailed(endPoint, torrent.Now());
        LastDialFailure = $"{endPoint}: {error?.Message ?? "failed"}";
        torrent.Log($"dial {endPoint} failed: {error?.Message}");
    }

    /// <summary>Dials candidates while the torrent runs and the half-open, torrent and session limits allow.</summary>
    public void DialMore()
    {
        if (!torrent.AcceptsPeers) return;
        long now = torrent.Now();
        int max = ConnectionAdmission.OutgoingLimit(Rules);
        while (_halfOpen < MaxHalfOpen && torrent.Peers.Count + _halfOpen < max)
        {
            if (!torrent.Session.TryReserveConnection()) return;
            if (!torrent.PeerList.TryTakeNext(now, out IPEndPoint endPoint))
            {
                torrent.Session.ReleaseConnection();
                return;
            }
            _halfOpen++;
            _ = torrent.Session.DialAsync(actor, endPoint, torrent.PeerList.Find(endPoint)?.Connector, stopping);
        }
    }

    /// <summary>
    /// Dials <paramref name="endPoint"/> over uTP only, now, whatever its back-off (a BEP 55 connect message: the peer
    /// dials us at the same moment, and only that opens the way), within the same limits as every dial.
    /// </summary>
    public void DialOverUtp(IPEndPoint endPoint)
    {
        if (!torrent.AcceptsPeers || !torrent.Session.UtpRuns) return;
        if (_halfOpen >= MaxHalfOpen || torrent.Peers.Count + _halfOpen >= ConnectionAdmission.OutgoingLimit(Rules)) return;
        AddCandidate(endPoint, PeerSource.Pex); // the rules of every address we learn (not a peer, ourselves, per address)
        if (torrent.PeerList.Find(endPoint) is null || !torrent.Session.TryReserveConnection()) return;
        if (!torrent.PeerList.TryTake(endPoint))
        {
            torrent.Session.ReleaseConnection();
            return;
        }
        _halfOpen++;
        _ = torrent.Session.DialAsync(actor, endPoint, Transport.Utp.UtpConnector.UtpName, stopping, preferredOnly: true);
    }

    /// <summary>
    /// Bans one offender (its endpoint, listen endpoint and peer id; its whole address only after offences from
    /// several of its endpoints, see <see cref="BanList"/>) and closes its connections. Neighbours on the same
    /// address (NAT, one host running several clients) keep trading.
    /// </summary>
    public void Ban(IPEndPoint endPoint, IPEndPoint? listenEndPoint, byte[]? peerId, string? client, string reason)
    {
        BanList bans = torrent.PeerList.Bans;
        if (bans.IsBanned(endPoint, peerId)) return;
        bool wholeAddress = bans.Ban(endPoint, listenEndPoint, peerId);
        torrent.Log($"banned {endPoint} ({client ?? "unknown"}){(wholeAddress ? $" and the whole address {endPoint.Address} (offences from several of its endpoints)" : "")}: {reason}");
        foreach (PeerConnection peer in torrent.Peers.All)
        {
            if (bans.IsBanned(peer.EndPoint, peer.PeerId) || (peer.ListenEndPoint is { } listen && bans.IsBanned(listen)))
                peer.Close("banned: " + reason);
        }
    }

    /// <summary>Closes a connection the actor will not take (a refusal, or the torrent stopping) and returns its slot.</summary>
    public async Task DropAsync(PendingPeer pending)
    {
        torrent.Session.ReleaseConnection();
        try { await pending.Transport.DisposeAsync().ConfigureAwait(false); }
        catch (Exception ex) { torrent.Log($"closing {pending.Transport.RemoteEndPoint} failed: {ex.Message}"); }
    }

    private string? RefusalReason(PendingPeer pending, long now)
    {
        if (!torrent.AcceptsPeers) return "torrent not running";
        if (torrent.PeerList.Bans.IsBanned(pending.Transport.RemoteEndPoint, pending.Handshake.PeerId.Span)) return "banned";
        ReadOnlySpan<byte> remoteId = pending.Handshake.PeerId.Span;
        if (remoteId.SequenceEqual(torrent.Session.PeerId)) return "connection to ourselves";
        foreach (PeerConnection existing in torrent.Peers.All)
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

    /// <summary>
    /// The torrent's connection limits (<see cref="ConnectionAdmission"/>), asked last so that a newcomer refused for
    /// another reason replaces nobody: per address, the total, and at the total a useless peer making room.
    /// </summary>
    private string? AdmissionRefusal(PendingPeer pending, long now)
    {
        if (torrent.Session.PeerMemory.IsFull) return "memory for peers is at its ceiling";
        TimeProvider time = torrent.Time;
        var peers = new AdmissionPeer[torrent.Peers.Count];
        int i = 0;
        foreach (PeerConnection peer in torrent.Peers.All)
        {
            peers[i++] = new AdmissionPeer(peer.Key, AddressKey.From(peer.EndPoint.Address), time.GetElapsedTime(peer.ConnectedAt, now),
                time.GetElapsedTime(peer.LastUsefulAt, now), peer.Downloaded + peer.Uploaded, peer.CloseReason is not null);
        }
        AdmissionDecision decision = ConnectionAdmission.Decide(pending.Transport.RemoteEndPoint.Address, peers, Rules);
        if (decision.Replace is int key && torrent.Peers.TryGet(key, out PeerConnection victim))
        {
            string reason = $"replaced by a newcomer (no payload for {time.GetElapsedTime(victim.LastUsefulAt, now).TotalSeconds:0} s while the torrent is full)";
            torrent.Log($"peer {victim.EndPoint} {reason}");
            victim.Close(reason);
        }
        return decision.Refusal;
    }

    private bool InitiatedByLowerId(bool incoming, ReadOnlySpan<byte> remoteId)
    {
        ReadOnlySpan<byte> initiator = incoming ? remoteId : torrent.Session.PeerId;
        ReadOnlySpan<byte> acceptor = incoming ? torrent.Session.PeerId : remoteId;
        return initiator.SequenceCompareTo(acceptor) < 0;
    }
}
