using Shoal.Metainfo;

namespace Shoal.Discovery;

/// <summary>What a metadata message changed for the torrent.</summary>
internal enum MetadataOutcome
{
    /// <summary>Nothing the torrent must act on.</summary>
    None,
    /// <summary>The info dictionary is complete and matches the info-hash: see <see cref="MetadataExchange.InfoDictionary"/>.</summary>
    Completed,
    /// <summary>A complete set of pieces did not match the info-hash: see <see cref="MetadataExchange.LastFailureContributors"/>.</summary>
    HashMismatch,
}

/// <summary>
/// One torrent's side of BEP 9 over BEP 10: fetches the info dictionary of a magnet link from the peers that offer
/// it (one piece per peer at a time, re-asked elsewhere after a timeout or a refusal), and serves it once known.
/// Single-threaded (the torrent actor owns it); time comes in as <see cref="TimeProvider"/> timestamps.
/// <paramref name="underPressure"/> says when the session's memory for peers is past half its ceiling: requests are
/// then refused.
/// </summary>
internal sealed class MetadataExchange(InfoHash infoHash, TimeProvider time, Action<string> log, Func<bool> underPressure)
{
    /// <summary>Bytes queued for a peer past which its metadata requests are rejected rather than answered (16 pieces).</summary>
    public const int ReplyQueueLimit = 256 * 1024;

    /// <summary>How long a metadata request may go unanswered before another peer is asked.</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    /// <summary>How long a peer that rejected a metadata request is left alone.</summary>
    public static readonly TimeSpan RefusalPause = TimeSpan.FromSeconds(30);

    private MetadataAssembler? _assembler;
    private MetadataServer? _server;
    private ReadOnlyMemory<byte> _known;

    /// <summary>True once the info dictionary is known (from a .torrent, or fetched).</summary>
    public bool IsKnown => !_known.IsEmpty;

    /// <summary>The verified info dictionary once <see cref="MetadataOutcome.Completed"/> was returned.</summary>
    public ReadOnlyMemory<byte> InfoDictionary => _known;

    /// <summary>The peer keys that sent the pieces of the attempt that failed (after <see cref="MetadataOutcome.HashMismatch"/>).</summary>
    public IReadOnlyList<int> LastFailureContributors => _assembler?.LastFailureContributors ?? [];

    /// <summary>The info dictionary is known: requests are served, nothing more is fetched.</summary>
    public void SetKnown(ReadOnlyMemory<byte> infoDictionary)
    {
        _known = infoDictionary;
        _assembler = null;
    }

    /// <summary>A peer's extension handshake: a magnet torrent learns the metadata size and asks the peer for a piece.</summary>
    public void OnHandshake(IExtensionPeer peer, ExtensionHandshake handshake)
    {
        if (!IsKnown && _assembler is null && handshake.MetadataSize is int size)
        {
            if (MetadataAssembler.TryCreate(infoHash, size, out MetadataAssembler? assembler)) _assembler = assembler;
            else log($"peer {peer.EndPoint} announced an impossible metadata size {size}");
        }
        Request(peer);
    }

    /// <summary>Handles a ut_metadata message from <paramref name="peer"/>.</summary>
    public MetadataOutcome OnMessage(IExtensionPeer peer, MetadataMessage message)
    {
        MetadataPeerState state = peer.Metadata;
        switch (message.Type)
        {
            case MetadataMessageType.Request:
                byte remoteId = peer.Extensions?.GetId(ExtensionIds.MetadataName) ?? 0;
                if (remoteId == 0) return MetadataOutcome.None;
                // A peer that has not read what it already asked for, or a session at half its memory ceiling, is
                // refused: it may ask again later (BEP 9), and its requests cannot pile up our answers.
                bool busy = peer.QueuedBytes > ReplyQueueLimit || underPressure();
                byte[] answer = !IsKnown || busy
                    ? MetadataMessage.Reject(message.Piece).Encode()
                    : (_server ??= new MetadataServer(_known)).Respond(message.Piece);
                peer.SendExtended(remoteId, answer);
                return MetadataOutcome.None;
            case MetadataMessageType.Data:
                if (state.RequestedPiece == message.Piece) state.RequestedPiece = null;
                if (IsKnown || _assembler is null) return MetadataOutcome.None;
                MetadataPieceResult result = _assembler.OnData(peer.Key, message.Piece, message.Data.Span);
                if (result == MetadataPieceResult.Completed)
                {
                    SetKnown(_assembler.InfoDictionary);
                    return MetadataOutcome.Completed;
                }
                if (result == MetadataPieceResult.HashMismatch) return MetadataOutcome.HashMismatch;
                Request(peer);
                return MetadataOutcome.None;
            case MetadataMessageType.Reject:
                if (state.RequestedPiece == message.Piece) state.RequestedPiece = null;
                _assembler?.OnRejected(peer.Key, message.Piece);
                state.Refused = true;
                state.RequestedAt = time.GetTimestamp();
                return MetadataOutcome.None;
            default:
                return MetadataOutcome.None;
        }
    }

    /// <summary>Periodic: a request that timed out goes to another peer, a refusal ages out, and idle peers are asked.</summary>
    public void OnTick(IExtensionPeer peer, long now)
    {
        if (IsKnown) return;
        MetadataPeerState state = peer.Metadata;
        TimeSpan waited = time.GetElapsedTime(state.RequestedAt, now);
        if (state.RequestedPiece is int piece && waited > RequestTimeout)
        {
            _assembler?.OnRejected(peer.Key, piece);
            state.RequestedPiece = null;
        }
        if (state.Refused && waited > RefusalPause) state.Refused = false;
        Request(peer);
    }

    /// <summary>The peer left: its requested piece is needed from someone else.</summary>
    public void OnPeerGone(int key) => _assembler?.OnPeerGone(key);

    private void Request(IExtensionPeer peer)
    {
        MetadataPeerState state = peer.Metadata;
        if (IsKnown || _assembler is null || state.RequestedPiece is not null || state.Refused) return;
        byte remoteId = peer.Extensions?.GetId(ExtensionIds.MetadataName) ?? 0;
        if (remoteId == 0) return;
        if (_assembler.NextPieceToRequest(peer.Key) is not int piece) return;
        state.RequestedPiece = piece;
        state.RequestedAt = time.GetTimestamp();
        peer.SendExtended(remoteId, MetadataMessage.Request(piece).Encode());
    }
}
