using Shoal.Choking;
using Shoal.Wire;

namespace Shoal.Swarm;

/// <summary>
/// Whom we upload to: runs the <see cref="Choker"/>'s round every <see cref="RoundInterval"/> (the first one
/// <see cref="FirstRound"/> after the start), and between rounds unchokes interested peers straight away while
/// regular slots are free. Single-threaded (the torrent actor drives it).
/// </summary>
internal sealed class Unchoker
{
    private static readonly TimeSpan RoundInterval = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The first choke round runs this soon after the torrent starts, not a whole <see cref="RoundInterval"/>
    /// later: free regular slots go to the first interested peers at once, and the optimistic slot is kept for
    /// the choker, which gives it to a peer with nothing yet (new peers weigh more) once the first few seconds'
    /// arrivals are known. With the optimistic slot handed out first come, a swarm's slower starters (libtorrent
    /// processes, 0.3-0.5 s behind in the swarm benchmark) got nothing from anyone for 10 s.
    /// </summary>
    private static readonly TimeSpan FirstRound = TimeSpan.FromSeconds(3);

    private readonly TorrentContext _torrent;
    private readonly Choker _choker;
    private HashSet<int>? _unchoked;
    private HashSet<int> Unchoked => _unchoked ??= [];
    private ChokeCandidate[] _candidates = [];
    private long _lastRound;
    private bool _roundRun;

    public Unchoker(TorrentContext torrent)
    {
        _torrent = torrent;
        _choker = new Choker(Slots, torrent.Random);
        _lastRound = torrent.StartedAt;
    }

    /// <summary>Runs the choke round when it is due.</summary>
    public void OnTick(long now)
    {
        if (_torrent.Time.GetElapsedTime(_lastRound, now) < (_roundRun ? RoundInterval : FirstRound)) return;
        _lastRound = now;
        _roundRun = true;
        RunRound(now);
    }

    public void OnInterested(PeerConnection peer)
    {
        peer.PeerInterested = true;
        if (peer.AmChoking) UnchokeFreeSlots();
    }

    public void OnNotInterested(PeerConnection peer)
    {
        peer.PeerInterested = false;
        if (!peer.AmChoking)
        {
            peer.Choke();
            UnchokeFreeSlots();
        }
    }

    /// <summary>
    /// The tick: a peer unchoked for <see cref="PeerInactivity.UnchokeGrace"/> that asked for nothing is choked, and its
    /// slot goes to someone who will use it now rather than at the next round.
    /// </summary>
    public void NoteProgress(PeerConnection peer, long now)
    {
        if (!peer.NoteProgress(now)) return;
        peer.Choke();
        UnchokeFreeSlots();
    }

    /// <summary>A peer left: its slot, if it had one, goes to another.</summary>
    public void OnPeerGone(PeerConnection peer)
    {
        if (!peer.AmChoking) UnchokeFreeSlots();
    }

    /// <summary>Regular slots now: the torrent's own (<see cref="TorrentOptions.UploadSlots"/>), else the session's; both change at runtime.</summary>
    private int Slots => _torrent.Options.UploadSlots > 0 ? _torrent.Options.UploadSlots : _torrent.Session.Options.UnchokeSlots;

    private void RunRound(long now)
    {
        PeerTable peers = _torrent.Peers;
        if (peers.Count == 0) return;
        _choker.RegularSlots = Slots;
        if (_candidates.Length < peers.Count) _candidates = new ChokeCandidate[Math.Max(peers.Count, _candidates.Length * 2)];
        ChokeCandidate[] candidates = _candidates;
        int i = 0;
        foreach (PeerConnection peer in peers.All)
        {
            candidates[i++] = new ChokeCandidate(peer.Key, peer.WantsUnchoke, peer.AmChoking,
                peer.DownloadMeter.BytesPerSecond, peer.UploadMeter.BytesPerSecond, peer.Uploaded,
                peer.Has.AllSet, peer.IsSnubbed, peer.Has.SetFraction);
        }
        Unchoked.Clear();
        _choker.Decide(candidates.AsSpan(0, i), _torrent.State == TorrentState.Seeding, _torrent.Time.GetElapsedTime(_torrent.StartedAt, now), Unchoked);
        foreach (PeerConnection peer in peers.All)
        {
            bool unchoke = Unchoked.Contains(peer.Key);
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
    /// to the choker (<see cref="FirstRound"/>). The newest peers go first: a slot freed by a peer that ignored
    /// its unchoke then reaches a newcomer rather than the next of many older peers that may ignore it too.
    /// </summary>
    private void UnchokeFreeSlots()
    {
        int slots = Slots;
        int unchoked = 0;
        foreach (PeerConnection peer in _torrent.Peers.All)
            if (!peer.AmChoking) unchoked++;
        while (unchoked < slots)
        {
            PeerConnection? newest = null;
            foreach (PeerConnection peer in _torrent.Peers.All)
                if (peer.AmChoking && peer.WantsUnchoke && (newest is null || peer.Key > newest.Key)) newest = peer;
            if (newest is null) return;
            newest.AmChoking = false;
            newest.Send(new OutboundMessage(MessageId.Unchoke));
            unchoked++;
        }
    }
}
