using System.Runtime.InteropServices;

namespace Shoal.Choking;

/// <summary>
/// Decides which peers we unchoke (allow to download from us). Pure and deterministic for a given
/// <see cref="Random"/>: time is passed in, nothing is read from a clock; not thread-safe (owned by the
/// torrent actor).
/// </summary>
/// <remarks>
/// <para>
/// Leeching (tit-for-tat, BEP 3 / mainline): the <c>regularSlots</c> interested peers that send us data
/// fastest are unchoked; snubbed peers and seeds are not eligible (a seed never reciprocates, a snubbed
/// peer has stopped doing so). Ties (e.g. every rate zero at start) prefer peers already unchoked, so slots
/// do not flap, then random.
/// </para>
/// <para>
/// Seeding (least complete first, round robin among equals): download rate from a peer means nothing, and
/// unchoking the fastest downloaders lets one fast peer hog the upload. Each unchoked peer gets a turn of
/// <see cref="SeedTurn"/>; after it, the slot goes to the interested peer that has the fewest pieces, counted
/// in steps of 1/<see cref="CompletionSteps"/> of the torrent, then to the one that has waited longest since
/// it was last choked (peers never unchoked first), then to the one that got the fewest bytes from us, then
/// random. A swarm is done when its slowest peer is: a seed's upload is worth most to the peer furthest
/// behind, which also has the least to trade with the other leechers. Among peers at the same step, every
/// one is unchoked at least once every ceil(N/k) turns, and the optimistic slot still reaches every peer.
/// </para>
/// <para>
/// Optimistic unchoke (both modes): one more slot, given to an interested peer not in the regular slots,
/// kept for <see cref="OptimisticRotation"/> then rotated. Choked peers are preferred, and peers never
/// unchoked by us weigh <see cref="NewPeerWeight"/> times more (as mainline and libtorrent), because a new
/// peer has nothing to trade yet and needs a first piece to join tit-for-tat. When the optimistic peer earns
/// a regular slot, a new optimistic peer is chosen at once.
/// </para>
/// <para>
/// Uninterested peers are never unchoked: an unchoke slot given to a peer that requests nothing is wasted.
/// </para>
/// <para>
/// Rotation is based on the <c>now</c> passed in, not on call count, so calling <see cref="Decide"/> early
/// (a peer joined or left) does not speed it up. Per-peer history is kept only for peers present in the
/// last call: a peer missing from the candidates is forgotten (bounded memory), and comes back as new.
/// </para>
/// </remarks>
public sealed class Choker
{
    /// <summary>How long the optimistic unchoke stays on one peer.</summary>
    public static readonly TimeSpan OptimisticRotation = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a seeding unchoke turn lasts before the slot goes to a waiting peer: one choke round. Longer turns
    /// let a seed serve few peers over a short swarm's life; with 16 leechers, half of them libtorrent, 30 s turns
    /// left the slowest leechers waiting and the swarm reached 86-88 % of the theoretical minimum time, 10 s turns
    /// 89-91 % (all-Shoal swarms unchanged at 96 %; docs/performance.md).
    /// </summary>
    public static readonly TimeSpan SeedTurn = TimeSpan.FromSeconds(10);

    /// <summary>
    /// A seed ranks peers by completion in steps of 1/<c>CompletionSteps</c> of the torrent: coarse enough that
    /// peers about as far along take turns round robin, fine enough that one clearly behind is served first.
    /// </summary>
    public const int CompletionSteps = 16;

    /// <summary>Weight of a never-unchoked peer in the optimistic draw (others weigh 1).</summary>
    public const int NewPeerWeight = 3;

    private int _regularSlots;
    private readonly Random _random;
    private Dictionary<int, PeerRecord>? _peers;
    private Dictionary<int, PeerRecord> Records => _peers ??= new();
    private Entry[] _entries = []; // grown on the first decision with candidates: an idle torrent's choker holds nothing
    private int _generation;

    private bool _hasOptimistic;
    private int _optimisticPeer;
    private TimeSpan _optimisticSince;

    /// <summary>Creates a choker with <paramref name="regularSlots"/> regular slots plus one optimistic slot.</summary>
    public Choker(int regularSlots, Random random)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(regularSlots);
        ArgumentNullException.ThrowIfNull(random);
        _regularSlots = regularSlots;
        _random = random;
    }

    /// <summary>Number of regular (non-optimistic) slots; a change applies from the next decision.</summary>
    public int RegularSlots
    {
        get => _regularSlots;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _regularSlots = value;
        }
    }

    /// <summary>The peer holding the optimistic slot after the last decision, or null.</summary>
    public int? OptimisticPeer => _hasOptimistic ? _optimisticPeer : null;

    /// <summary>
    /// Decides which peers to have unchoked. <paramref name="unchoked"/> is cleared, then filled with the keys
    /// of the peers to unchoke (at most regular slots + 1); every other candidate should be choked. Call every
    /// 10 s, and whenever peers join or leave.
    /// </summary>
    public void Decide(ReadOnlySpan<ChokeCandidate> candidates, bool weAreSeeding, TimeSpan now, HashSet<int> unchoked)
    {
        ArgumentNullException.ThrowIfNull(unchoked);
        unchoked.Clear();
        _generation++;

        if (_entries.Length < candidates.Length) _entries = new Entry[Math.Max(candidates.Length, _entries.Length * 2)];

        // Refresh per-peer history from what the caller reports, then forget peers that left.
        bool optimisticPresent = false;
        for (int i = 0; i < candidates.Length; i++)
        {
            ref readonly ChokeCandidate c = ref candidates[i];
            ref PeerRecord rec = ref CollectionsMarshal.GetValueRefOrAddDefault(Records, c.PeerKey, out bool existed);
            if (!existed) rec = new PeerRecord { LastChokedAt = TimeSpan.MinValue };
            rec.Generation = _generation;
            if (!c.IsChokedByUs && !rec.Unchoked) { rec.Unchoked = true; rec.EverUnchoked = true; rec.UnchokedSince = now; }
            else if (c.IsChokedByUs && rec.Unchoked) { rec.Unchoked = false; rec.LastChokedAt = now; }
            if (_hasOptimistic && c.PeerKey == _optimisticPeer) optimisticPresent = c.IsInterested;
        }
        foreach (KeyValuePair<int, PeerRecord> kv in Records)
            if (kv.Value.Generation != _generation) Records.Remove(kv.Key); // allowed while enumerating (.NET Core 3+)

        if (weAreSeeding) SelectSeeding(candidates, now, unchoked);
        else SelectLeeching(candidates, unchoked);

        SelectOptimistic(candidates, now, unchoked, optimisticPresent);

        // Record the outcome so turn lengths and "never unchoked" are known next time.
        for (int i = 0; i < candidates.Length; i++)
        {
            ref PeerRecord rec = ref CollectionsMarshal.GetValueRefOrNullRef(Records, candidates[i].PeerKey);
            bool u = unchoked.Contains(candidates[i].PeerKey);
            if (u && !rec.Unchoked) { rec.Unchoked = true; rec.EverUnchoked = true; rec.UnchokedSince = now; }
            else if (!u && rec.Unchoked) { rec.Unchoked = false; rec.LastChokedAt = now; }
        }
    }

    private void SelectLeeching(ReadOnlySpan<ChokeCandidate> candidates, HashSet<int> unchoked)
    {
        int n = 0;
        for (int i = 0; i < candidates.Length; i++)
        {
            ref readonly ChokeCandidate c = ref candidates[i];
            if (!c.IsInterested || c.IsSnubbed || c.PeerIsSeed) continue;
            bool current = Records[c.PeerKey].Unchoked;
            _entries[n++] = new Entry(i, 0, -c.DownloadRateFromPeer, current ? 0 : 1, 0, _random.Next());
        }
        FillSlots(n, candidates, unchoked);
    }

    private void SelectSeeding(ReadOnlySpan<ChokeCandidate> candidates, TimeSpan now, HashSet<int> unchoked)
    {
        int n = 0;
        for (int i = 0; i < candidates.Length; i++)
        {
            ref readonly ChokeCandidate c = ref candidates[i];
            if (!c.IsInterested) continue;
            PeerRecord rec = Records[c.PeerKey];
            bool isOptimistic = _hasOptimistic && _optimisticPeer == c.PeerKey;
            if (rec.Unchoked && !isOptimistic && now - rec.UnchokedSince < SeedTurn)
                _entries[n++] = new Entry(i, 0, rec.UnchokedSince.Ticks, c.BytesUploadedToPeer, 0, _random.Next()); // turn not over: keep
            else
            {
                // Least complete first; then waiting since last choked (never unchoked: MinValue, first); a peer
                // whose turn is over (or that held the optimistic slot) goes to the back of its step's queue, as
                // if choked now.
                long step = (long)Math.Clamp(c.PeerCompletion * CompletionSteps, 0, CompletionSteps - 1);
                long waitingSince = rec.Unchoked ? now.Ticks : rec.LastChokedAt.Ticks;
                _entries[n++] = new Entry(i, 1, step, waitingSince, c.BytesUploadedToPeer, _random.Next());
            }
        }
        FillSlots(n, candidates, unchoked);
    }

    private void FillSlots(int n, ReadOnlySpan<ChokeCandidate> candidates, HashSet<int> unchoked)
    {
        Span<Entry> entries = _entries.AsSpan(0, n);
        entries.Sort(static (a, b) =>
        {
            int r = a.Group.CompareTo(b.Group);
            if (r != 0) return r;
            r = a.Primary.CompareTo(b.Primary);
            if (r != 0) return r;
            r = a.Secondary.CompareTo(b.Secondary);
            if (r != 0) return r;
            r = a.Tertiary.CompareTo(b.Tertiary);
            return r != 0 ? r : a.Tie.CompareTo(b.Tie);
        });
        int take = Math.Min(_regularSlots, n);
        for (int i = 0; i < take; i++) unchoked.Add(candidates[entries[i].Index].PeerKey);
    }

    private void SelectOptimistic(ReadOnlySpan<ChokeCandidate> candidates, TimeSpan now, HashSet<int> unchoked, bool optimisticPresent)
    {
        bool keepable = _hasOptimistic && optimisticPresent && !unchoked.Contains(_optimisticPeer);
        if (keepable && now - _optimisticSince < OptimisticRotation)
        {
            unchoked.Add(_optimisticPeer);
            return;
        }

        // Draw among interested peers outside the regular slots, other than the current optimistic peer;
        // choked ones first (a peer that just lost a regular slot already had its chance).
        int pick = Draw(candidates, unchoked, requireChoked: true);
        if (pick < 0) pick = Draw(candidates, unchoked, requireChoked: false);
        if (pick >= 0)
        {
            _hasOptimistic = true;
            _optimisticPeer = candidates[pick].PeerKey;
            _optimisticSince = now;
            unchoked.Add(_optimisticPeer);
        }
        else if (keepable)
        {
            // Nobody else to rotate to: keep the slot where it is and start a new period.
            _optimisticSince = now;
            unchoked.Add(_optimisticPeer);
        }
        else
        {
            _hasOptimistic = false;
        }
    }

    private int Draw(ReadOnlySpan<ChokeCandidate> candidates, HashSet<int> unchoked, bool requireChoked)
    {
        int total = 0;
        for (int i = 0; i < candidates.Length; i++)
            if (IsOptimisticCandidate(candidates[i], unchoked, requireChoked)) total += Weight(candidates[i]);
        if (total == 0) return -1;
        int r = _random.Next(total);
        for (int i = 0; i < candidates.Length; i++)
        {
            if (!IsOptimisticCandidate(candidates[i], unchoked, requireChoked)) continue;
            r -= Weight(candidates[i]);
            if (r < 0) return i;
        }
        return -1;
    }

    private bool IsOptimisticCandidate(in ChokeCandidate c, HashSet<int> unchoked, bool requireChoked) =>
        c.IsInterested
        && (!requireChoked || c.IsChokedByUs)
        && !(_hasOptimistic && c.PeerKey == _optimisticPeer)
        && !unchoked.Contains(c.PeerKey);

    private int Weight(in ChokeCandidate c) => Records[c.PeerKey].EverUnchoked ? 1 : NewPeerWeight;

    private struct PeerRecord
    {
        public int Generation;
        public bool Unchoked;
        public bool EverUnchoked;
        public TimeSpan UnchokedSince;
        public TimeSpan LastChokedAt;
    }

    private readonly record struct Entry(int Index, int Group, long Primary, long Secondary, long Tertiary, int Tie);
}
