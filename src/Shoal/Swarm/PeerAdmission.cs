using System.Net;

namespace Shoal.Swarm;

/// <summary>
/// Who is connected: admits or refuses a handshaken connection (limits, bans, ourselves, duplicates), starts its
/// loops, records who left, dials candidates from the <see cref="PeerList"/> within the half-open and connection
/// limits, and bans offenders. Single-threaded (the torrent actor drives it).
/// </summary>
internal sealed class PeerAdmission(TorrentContext torrent, TorrentActor actor, PeerLoopContext loops, CancellationToken stopping)
{
    /// <summary>Dials in progress at once per torrent.</summary>
    private const int MaxHalfOpen = 8;

    private int _halfOpen;

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
        string? refusal = RefusalReason(pending, now);
        if (refusal is not null)
        {
            if (pending.DialedEndPoint is { } ep) torrent.PeerList.OnRefused(ep, now, isSelf: refusal == "connection to ourselves");
            torrent.Log($"refused {pending.Transport.RemoteEndPoint}: {refusal}");
            _ = DropAsync(pending);
            return null;
        }

        var peer = new PeerConnection(torrent.Peers.NextKey(), torrent.Session.NextConnectionId(), pending, torrent.Have.Length, now);
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
        torrent.Log($"dial {endPoint} failed: {error?.Message}");
    }

    /// <summary>Dials candidates while the torrent runs and the half-open, torrent and session limits allow.</summary>
    public void DialMore()
    {
        if (!torrent.AcceptsPeers) return;
        long now = torrent.Now();
        int max = torrent.Session.Options.MaxConnectionsPerTorrent;
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
        if (_halfOpen >= MaxHalfOpen || torrent.Peers.Count + _halfOpen >= torrent.Session.Options.MaxConnectionsPerTorrent) return;
        if (!torrent.Session.TryReserveConnection()) return;
        if (!torrent.PeerList.TryTake(endPoint, PeerSource.Pex))
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
        if (torrent.Peers.Count >= torrent.Session.Options.MaxConnectionsPerTorrent) return "too many connections";
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

    private bool InitiatedByLowerId(bool incoming, ReadOnlySpan<byte> remoteId)
    {
        ReadOnlySpan<byte> initiator = incoming ? remoteId : torrent.Session.PeerId;
        ReadOnlySpan<byte> acceptor = incoming ? torrent.Session.PeerId : remoteId;
        return initiator.SequenceCompareTo(acceptor) < 0;
    }
}
