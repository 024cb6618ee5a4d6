using System.Net;

namespace Shoal.Swarm;

/// <summary>
/// The peer addresses one torrent knows, in the spirit of libtorrent's peer_list: where each came from, whether it
/// is connected, how often it failed and when it may be dialled again, which addresses are banned, and which
/// address to dial next. Pure and single-threaded (the torrent actor owns it): no I/O, time comes in as
/// <see cref="TimeProvider"/> timestamps, the order of choices depends only on the order of calls.
/// </summary>
/// <remarks>
/// Bounded at <see cref="Capacity"/> addresses. A full list still learns: a new address replaces the idle candidate
/// that failed most (the oldest among equals), and a candidate that failed <see cref="MaxFailures"/> times in a row is
/// forgotten (a tracker or PEX naming it again brings it back with a clean record). Without that a long-running
/// torrent whose list had filled with dead addresses would stop finding new peers.
/// </remarks>
internal sealed class PeerList
{
    /// <summary>Default most addresses kept.</summary>
    public const int DefaultCapacity = 2000;

    /// <summary>Failures in a row after which a candidate (not added by the user) is forgotten.</summary>
    public const int MaxFailures = 8;

    /// <summary>How long an address that refused the connection in the handshake (or is this session) is left alone.</summary>
    public static readonly TimeSpan RefusalPause = TimeSpan.FromMinutes(10);

    /// <summary>A connection that lasted this long clears the candidate's failures: the peer works.</summary>
    public static readonly TimeSpan HealthyConnection = TimeSpan.FromMinutes(1);

    private Dictionary<IPEndPoint, PeerCandidate>? _byEndPoint; // made with the first address (most torrents of a large session know none)
    private readonly List<PeerCandidate> _order = []; // insertion order: choices never depend on hash codes
    private readonly long _frequency;

    public PeerList(long timestampFrequency, BanList bans, int capacity = DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(timestampFrequency);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        _frequency = timestampFrequency;
        Bans = bans;
        Capacity = capacity;
    }

    /// <summary>Most addresses kept.</summary>
    public int Capacity { get; }

    /// <summary>Addresses known.</summary>
    public int Count => _order.Count;

    /// <summary>The banned addresses; a banned address is never dialled (and the actor refuses it).</summary>
    public BanList Bans { get; }

    /// <summary>Every address known, in the order they were learned.</summary>
    public IReadOnlyList<PeerCandidate> All => _order;

    /// <summary>How many addresses are known at <paramref name="address"/> (any port).</summary>
    public int CountAt(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        int count = 0;
        foreach (PeerCandidate candidate in _order)
            if (candidate.EndPoint.Address.Equals(address)) count++;
        return count;
    }

    /// <summary>The candidate for <paramref name="endPoint"/>, if known.</summary>
    public PeerCandidate? Find(IPEndPoint endPoint) => _byEndPoint?.GetValueOrDefault(Normalize(endPoint));

    /// <summary>
    /// Learns an address (or one more source of a known one). False when it cannot be a peer (port 0) or the list is
    /// full of candidates that all work or are in use.
    /// </summary>
    public bool Add(IPEndPoint endPoint, PeerSource source) => AddCore(endPoint, source, connected: false, now: 0);

    /// <summary>
    /// Records the listen address of a connected incoming peer, so a tracker or PEX naming it later does not make
    /// us dial it a second time. <paramref name="now"/> is when it connected.
    /// </summary>
    public void AddConnected(IPEndPoint listenEndPoint, PeerSource source, long now) => AddCore(listenEndPoint, source, connected: true, now);

    private bool AddCore(IPEndPoint endPoint, PeerSource source, bool connected, long now)
    {
        endPoint = Normalize(endPoint);
        if (endPoint.Port == 0) return false;
        if (_byEndPoint is not null && _byEndPoint.TryGetValue(endPoint, out PeerCandidate? known))
        {
            known.Source |= source;
            if (connected && known.State == CandidateState.Idle) MarkConnected(known, now);
            return true;
        }
        if (_order.Count >= Capacity && !EvictOne()) return false;
        var candidate = new PeerCandidate(endPoint) { Source = source };
        if (connected) MarkConnected(candidate, now);
        (_byEndPoint ??= []).Add(endPoint, candidate);
        _order.Add(candidate);
        return true;
    }

    /// <summary>
    /// The best address to dial now, marked Connecting: idle, not in back-off, not banned, not ourselves; fewest
    /// failures first, then the order addresses were learned in. False when none qualifies.
    /// </summary>
    public bool TryTakeNext(long now, out IPEndPoint endPoint)
    {
        PeerCandidate? best = null;
        foreach (PeerCandidate candidate in _order)
        {
            if (candidate.State != CandidateState.Idle || candidate.IsSelf || candidate.NextAttempt > now) continue;
            if (best is not null && candidate.Failures >= best.Failures) continue;
            if (Bans.IsBanned(candidate.EndPoint)) continue;
            best = candidate;
            if (best.Failures == 0) break;
        }
        if (best is null)
        {
            endPoint = null!;
            return false;
        }
        best.State = CandidateState.Connecting;
        endPoint = best.EndPoint;
        return true;
    }

    /// <summary>The earliest time (a <see cref="TimeProvider"/> timestamp) a candidate may be dialled; null when none is waiting.</summary>
    public long? NextAttempt()
    {
        long? earliest = null;
        foreach (PeerCandidate candidate in _order)
        {
            if (candidate.State != CandidateState.Idle || candidate.IsSelf) continue;
            if (earliest is null || candidate.NextAttempt < earliest) earliest = candidate.NextAttempt;
        }
        return earliest;
    }

    /// <summary>
    /// Marks the known <paramref name="endPoint"/> Connecting for a dial outside the usual order (a BEP 55 hole punch);
    /// its back-off is ignored. False when it is unknown, connected or being dialled, ourselves or banned.
    /// </summary>
    public bool TryTake(IPEndPoint endPoint)
    {
        if (Find(endPoint) is not { } candidate) return false;
        if (candidate.State != CandidateState.Idle || candidate.IsSelf || Bans.IsBanned(candidate.EndPoint)) return false;
        candidate.State = CandidateState.Connecting;
        return true;
    }

    /// <summary>
    /// A dial to <paramref name="endPoint"/> (or an incoming peer at that listen address) completed its handshake,
    /// through <paramref name="connector"/> when known: remembered, so the next dial tries it first.
    /// </summary>
    public void OnConnected(IPEndPoint endPoint, long now, string? connector = null)
    {
        if (Find(endPoint) is not { } candidate) return;
        MarkConnected(candidate, now);
        if (connector is not null) candidate.Connector = connector;
    }

    /// <summary>A dial failed before or during the handshake: back off, and forget an address that keeps failing.</summary>
    public void OnDialFailed(IPEndPoint endPoint, long now)
    {
        if (Find(endPoint) is { } candidate) Fail(candidate, now);
    }

    /// <summary>
    /// A connection to <paramref name="endPoint"/> ended. One that lasted <see cref="HealthyConnection"/> clears the
    /// failures first; either way the address waits its back-off before the next dial.
    /// </summary>
    public void OnDisconnected(IPEndPoint endPoint, long now)
    {
        if (Find(endPoint) is not { } candidate) return;
        if (candidate.State == CandidateState.Connected && now - candidate.ConnectedAt >= (long)(HealthyConnection.TotalSeconds * _frequency))
            candidate.Failures = 0;
        Fail(candidate, now);
    }

    /// <summary>
    /// The handshake worked but we refused the peer (too many connections, a duplicate, a ban, ourselves): leave the
    /// address alone for <see cref="RefusalPause"/>; ourselves for good.
    /// </summary>
    public void OnRefused(IPEndPoint endPoint, long now, bool isSelf)
    {
        if (Find(endPoint) is not { } candidate) return;
        candidate.State = CandidateState.Idle;
        candidate.NextAttempt = now + (long)(RefusalPause.TotalSeconds * _frequency);
        if (isSelf) candidate.IsSelf = true;
    }

    /// <summary>
    /// The torrent resumes after a pause: the connections the pause closed (or refused) say nothing about the peers, so
    /// every idle address may be dialled at once again (ourselves excepted; bans still apply when dialling).
    /// </summary>
    public void ForgivePauses()
    {
        foreach (PeerCandidate candidate in _order)
        {
            if (candidate.State != CandidateState.Idle || candidate.IsSelf) continue;
            candidate.NextAttempt = 0;
            candidate.Failures = 0;
        }
    }

    /// <summary>Back-off after <paramref name="failures"/> failures in a row: 5 s doubling up to 10 minutes.</summary>
    public long Backoff(int failures)
    {
        double seconds = Math.Min(600, 5 * Math.Pow(2, Math.Min(failures - 1, 10)));
        return (long)(seconds * _frequency);
    }

    private void Fail(PeerCandidate candidate, long now)
    {
        candidate.State = CandidateState.Idle;
        candidate.Failures++;
        candidate.NextAttempt = now + Backoff(candidate.Failures);
        // What the user typed is kept trying; everything else comes back if a source names it again.
        if (candidate.Failures >= MaxFailures && (candidate.Source & PeerSource.Manual) == 0) Remove(candidate);
    }

    private static void MarkConnected(PeerCandidate candidate, long now)
    {
        candidate.State = CandidateState.Connected;
        candidate.ConnectedAt = now;
    }

    /// <summary>Makes room: drops the idle candidate with the most failures (the oldest among equals); none without failures.</summary>
    private bool EvictOne()
    {
        PeerCandidate? worst = null;
        foreach (PeerCandidate candidate in _order)
        {
            if (candidate.State != CandidateState.Idle || candidate.Failures == 0) continue;
            if (worst is null || candidate.Failures > worst.Failures) worst = candidate;
        }
        if (worst is null) return false;
        Remove(worst);
        return true;
    }

    private void Remove(PeerCandidate candidate)
    {
        _byEndPoint?.Remove(candidate.EndPoint);
        _order.Remove(candidate);
    }

    // IPv4-mapped IPv6 and plain IPv4 must be one candidate, or the same peer is dialled twice.
    private static IPEndPoint Normalize(IPEndPoint endPoint) =>
        endPoint.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(endPoint.Address.MapToIPv4(), endPoint.Port) : endPoint;
}
