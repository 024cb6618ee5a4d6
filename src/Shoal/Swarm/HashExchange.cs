using Shoal.Metainfo;
using Shoal.Storage;
using Shoal.Wire;

namespace Shoal.Swarm;

/// <summary>
/// One torrent's BEP 52 hash messages: answers peers' hash requests from what <see cref="FileHashTrees"/> knows (piece
/// layers, and block hashes of verified pieces), and fetches what the torrent lacks: the piece layers of a torrent
/// added from a magnet link (its info dictionary carries only the roots), and the block hashes of a piece that failed,
/// so the blocks that were wrong are named at once (<see cref="MerklePieceVerifier.FindCorruptBlocks"/>).
/// Single-threaded (the torrent actor drives it). Every answer is checked against the root (or a known piece hash)
/// before anything is kept; a peer whose answer does not prove is disconnected.
/// </summary>
/// <remarks>
/// Bounds: a peer gets at most <see cref="MaxAnswersPerTick"/> answers per tick (more are rejected, as BEP 52 allows);
/// we keep at most <see cref="MaxOutstandingPerPeer"/> requests in flight per peer and <see cref="MaxOutstanding"/> in
/// all; a request unanswered after <see cref="RequestTimeout"/> is asked of another peer.
/// </remarks>
internal sealed class HashExchange(TorrentContext torrent)
{
    /// <summary>Hash requests one peer gets answered per tick; beyond it they are rejected.</summary>
    public const int MaxAnswersPerTick = 64;

    /// <summary>Our requests in flight to one peer.</summary>
    public const int MaxOutstandingPerPeer = 4;

    /// <summary>Our requests in flight in all.</summary>
    public const int MaxOutstanding = 64;

    /// <summary>How long a request may go unanswered before another peer is asked.</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    private Dictionary<HashRequest, Outstanding>? _outstanding;
    private Dictionary<HashRequest, Outstanding> OutstandingRequests => _outstanding ??= [];
    private Dictionary<int, PeerState>? _peers;
    private Dictionary<int, PeerState> PeerStates => _peers ??= [];
    private Dictionary<int, HashRequest>? _blockRequests; // failed piece -> its block-hash request
    private Dictionary<int, HashRequest> BlockRequests => _blockRequests ??= [];
    private long _refusalsForgottenAt;

    /// <summary>Called with a piece and its bad blocks once a failed piece's block hashes have arrived.</summary>
    public Action<int, int[]>? CorruptBlocksFound { get; set; }

    private MerklePieceVerifier? Verifier => torrent.Storage?.Verifier as MerklePieceVerifier;

    /// <summary>True when the torrent has v2 trees whose piece layers are not all known yet.</summary>
    public bool LacksLayers => Verifier is { } v && !v.Trees.HasAllLayers;

    /// <summary>True when pieces cannot be verified until layers arrive: a v2-only torrent lacking layers (a hybrid falls back to SHA-1).</summary>
    public bool MustWaitForLayers => Verifier is { ChecksSha1: false } v && !v.Trees.HasAllLayers;

    /// <summary>A peer's hash request: answered from what is known, or rejected.</summary>
    public void OnRequest(PeerConnection peer, HashMessage message)
    {
        PeerState state = State(peer);
        HashRequest request = message.Request;
        if (state.AnsweredThisTick < MaxAnswersPerTick && Verifier is { } verifier && verifier.Trees.TryGetHashes(request, out byte[] hashes))
        {
            state.AnsweredThisTick++;
            peer.SendHashMessage(new HashMessage(MessageId.Hashes, request, hashes));
            return;
        }
        peer.SendHashMessage(new HashMessage(MessageId.HashReject, request, []));
    }

    /// <summary>
    /// A peer's 'hashes' answer. Returns true when it completed the last missing piece layer. An answer to nothing we
    /// asked is ignored (we may have given up on it); one that does not prove closes the peer.
    /// </summary>
    public bool OnHashes(PeerConnection peer, HashMessage message)
    {
        HashRequest request = message.Request;
        if (!OutstandingRequests.Remove(request, out Outstanding asked) || Verifier is not { } verifier) return false;
        Release(asked.PeerKey);
        bool lacked = !verifier.Trees.HasAllLayers;
        byte[]? proved = verifier.Trees.TryAddHashes(request, message.Hashes);
        if (proved is null)
        {
            peer.Close($"sent hashes that do not prove up to the file's root ({request})");
            return false;
        }
        if (request.BaseLayer == 0) OnBlockHashes(request, proved);
        bool completed = lacked && verifier.Trees.HasAllLayers;
        if (completed) torrent.Log("piece layers received from peers; every piece can be verified"); // kept in the resume data
        return completed;
    }

    /// <summary>A peer will not answer one of our requests: another peer is asked.</summary>
    public void OnReject(PeerConnection peer, HashMessage message)
    {
        HashRequest request = message.Request;
        State(peer).Refused.Add(request);
        if (!OutstandingRequests.TryGetValue(request, out Outstanding asked) || asked.PeerKey != peer.Key) return;
        OutstandingRequests.Remove(request);
        Release(peer.Key);
        // Ask someone else now rather than at the next tick: a failed piece's senders are waiting for their verdict.
        int piece = -1;
        foreach ((int p, HashRequest r) in BlockRequests)
        {
            if (r == request) piece = p;
        }
        if (piece >= 0 || LacksLayers) Ask(request, torrent.Now(), piece);
    }

    /// <summary>
    /// A piece failed its v2 check and its failed attempt is remembered: asks a peer for the piece's block hashes (proved
    /// up to the piece's known hash), to name the bad blocks without fetching the piece again. False when it cannot.
    /// </summary>
    public bool RequestBlockHashes(int piece)
    {
        if (Verifier is not { } verifier || !verifier.HasFailedAttempt(piece) || !verifier.Trees.CanVerify(piece)) return false;
        if (verifier.Trees.BlockHashesRequest(piece) is not { } request) return false;
        BlockRequests[piece] = request;
        Ask(request, torrent.Now(), piece);
        return true;
    }

    /// <summary>Asks for what is missing: piece layers, and block hashes of failed pieces not asked yet. Called each tick.</summary>
    public void OnTick(long now)
    {
        // The tables are made on first use (a v2 torrent's peers): a tick of any other torrent leaves them unmade.
        if (_peers is not null) foreach (PeerState state in _peers.Values) state.AnsweredThisTick = 0;
        foreach ((HashRequest request, Outstanding asked) in _outstanding?.ToArray() ?? [])
        {
            if (torrent.Time.GetElapsedTime(asked.SentAt, now) < RequestTimeout) continue;
            OutstandingRequests.Remove(request); // a late answer is ignored; another peer is asked below
            if (PeerStates.TryGetValue(asked.PeerKey, out PeerState? slow)) slow.Refused.Add(request);
            Release(asked.PeerKey);
        }
        if (Verifier is not { } verifier) return;
        // A peer that refused or was slow may have the hashes now (a downloader like us): ask everyone again now and then.
        if (torrent.Time.GetElapsedTime(_refusalsForgottenAt, now) >= 3 * RequestTimeout)
        {
            _refusalsForgottenAt = now;
            if (_peers is not null) foreach (PeerState state in _peers.Values) state.Refused.Clear();
        }
        foreach (int piece in _blockRequests?.Keys.ToArray() ?? [])
        {
            if (!verifier.HasFailedAttempt(piece)) BlockRequests.Remove(piece);
            else if (!OutstandingRequests.ContainsKey(BlockRequests[piece])) Ask(BlockRequests[piece], now, piece);
        }
        if (verifier.Trees.HasAllLayers) return;
        for (int tree = 0; tree < verifier.Trees.TreeCount && OutstandingRequests.Count < MaxOutstanding; tree++)
        {
            foreach (int index in verifier.Trees.MissingLayerParts(tree))
            {
                HashRequest request = verifier.Trees.PieceLayerRequest(tree, index);
                if (!OutstandingRequests.ContainsKey(request) && !Ask(request, now, -1)) return; // nobody free to ask
            }
        }
    }

    /// <summary>A peer left: its requests are asked elsewhere on the next tick.</summary>
    public void OnPeerGone(PeerConnection peer)
    {
        _peers?.Remove(peer.Key);
        foreach ((HashRequest request, Outstanding asked) in _outstanding?.ToArray() ?? [])
            if (asked.PeerKey == peer.Key) OutstandingRequests.Remove(request);
    }

    private void OnBlockHashes(HashRequest request, byte[] blockHashes)
    {
        foreach ((int piece, HashRequest asked) in BlockRequests)
        {
            if (asked != request) continue;
            BlockRequests.Remove(piece);
            int blocks = Math.Min(blockHashes.Length / Sha256Hash.Length, BlocksIn(piece));
            if (Verifier!.FindCorruptBlocks(piece, blockHashes.AsSpan(0, blocks * Sha256Hash.Length)) is { Length: > 0 } bad)
                CorruptBlocksFound?.Invoke(piece, bad);
            return;
        }
    }

    private int BlocksIn(int piece) => (Verifier!.Trees.GetHashedLength(piece) + MerkleTree.BlockSize - 1) / MerkleTree.BlockSize;

    /// <summary>Sends <paramref name="request"/> to a peer that may have the hashes and is not busy; false when there is none.</summary>
    private bool Ask(HashRequest request, long now, int piece)
    {
        if (OutstandingRequests.Count >= MaxOutstanding) return false;
        PeerConnection? best = null;
        foreach (PeerConnection peer in torrent.Peers.All)
        {
            PeerState state = State(peer);
            if (state.InFlight >= MaxOutstandingPerPeer || state.Refused.Contains(request)) continue;
            // A peer certainly has a piece's block hashes when it has the piece; a layer, when it has the whole file
            // or is a seed. Peers that have more come first; one that refused is not asked again.
            if (piece >= 0 && (peer.Has.Length <= piece || !peer.Has[piece])) continue;
            if (best is null || peer.Has.SetCount > best.Has.SetCount) best = peer;
        }
        if (best is null) return false;
        State(best).InFlight++;
        OutstandingRequests[request] = new Outstanding(best.Key, now);
        best.SendHashMessage(new HashMessage(MessageId.HashRequest, request, []));
        return true;
    }

    private void Release(int peerKey)
    {
        if (PeerStates.TryGetValue(peerKey, out PeerState? state) && state.InFlight > 0) state.InFlight--;
    }

    private PeerState State(PeerConnection peer)
    {
        if (!PeerStates.TryGetValue(peer.Key, out PeerState? state)) PeerStates[peer.Key] = state = new PeerState();
        return state;
    }

    private readonly record struct Outstanding(int PeerKey, long SentAt);

    private sealed class PeerState
    {
        public int AnsweredThisTick;
        public int InFlight;
        public HashSet<HashRequest> Refused { get; } = []; // bounded by the requests one torrent can make
    }
}
