using System.Net;

namespace Shoal.Swarm;

/// <summary>
/// Who a torrent refuses to trade with, and for how long. An offence (corrupt data, metadata that does not match
/// the info-hash) bans the offender's endpoint and its peer id, not its whole IP address: peers behind one NAT
/// (CGNAT is common) and several clients on one host share an address, and an honest neighbour must not pay for a
/// liar. Only when offences come from <see cref="BanListOptions.EndPointsBeforeAddressBan"/> distinct endpoints of
/// one address within <see cref="BanListOptions.Duration"/> is the whole address banned: that is one host cycling
/// ports and peer ids to come back.
/// </summary>
/// <remarks>
/// Bounded: at most <see cref="BanListOptions.Capacity"/> bans and as many addresses with offences on record;
/// at the bound, expired entries go first, then the entry closest to expiring (the oldest offence). Every entry
/// expires after <see cref="BanListOptions.Duration"/> (a peer may have been repaired, an address reassigned).
/// Pure and single-threaded: owned by the torrent actor, time from its <see cref="TimeProvider"/>.
/// </remarks>
internal sealed class BanList
{
    private readonly TimeProvider _time;
    private readonly BanListOptions _options;
    private readonly long _duration;
    // Made on the first ban or offence: most torrents never ban anyone, and a session may hold thousands of them.
    private Dictionary<BanKey, long>? _bans;
    private Dictionary<BanKey, long> Bans => _bans ??= [];
    private Dictionary<IPAddress, Offences>? _offences;
    private Dictionary<IPAddress, Offences> Offenders => _offences ??= [];

    public BanList(TimeProvider time, BanListOptions? options = null)
    {
        _time = time;
        _options = options ?? BanListOptions.Default;
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.Capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.EndPointsBeforeAddressBan, 1);
        _duration = (long)(_options.Duration.TotalSeconds * time.TimestampFrequency);
    }

    /// <summary>Bans in force (expired ones may still be counted until the next lookup or ban purges them).</summary>
    public int Count => _bans?.Count ?? 0;

    /// <summary>
    /// Records an offence: bans <paramref name="endPoint"/> (the connection's remote end), <paramref name="listenEndPoint"/>
    /// (where the peer accepts connections, when known, so it is not dialled again) and <paramref name="peerId"/>; bans
    /// the whole address once offences came from enough distinct endpoints of it. Returns true when the address was
    /// banned by this offence.
    /// </summary>
    public bool Ban(IPEndPoint endPoint, IPEndPoint? listenEndPoint, ReadOnlySpan<byte> peerId)
    {
        long now = _time.GetTimestamp();
        endPoint = Normalize(endPoint);
        Add(BanKey.ForEndPoint(endPoint), now);
        if (listenEndPoint is not null) Add(BanKey.ForEndPoint(Normalize(listenEndPoint)), now);
        if (!peerId.IsEmpty) Add(BanKey.ForPeerId(peerId), now);

        // Distinct endpoints: the listen endpoint names a peer better than an incoming connection's ephemeral port.
        IPEndPoint offender = listenEndPoint is null ? endPoint : Normalize(listenEndPoint);
        if (!Offenders.TryGetValue(offender.Address, out Offences? record) || record.ExpiresAt <= now)
        {
            if (record is null && Offenders.Count >= _options.Capacity) EvictOffence(now);
            record = new Offences();
            Offenders[offender.Address] = record;
        }
        record.ExpiresAt = now + _duration;
        if (record.EndPoints.Count < _options.EndPointsBeforeAddressBan) record.EndPoints.Add(offender);
        if (record.EndPoints.Count < _options.EndPointsBeforeAddressBan) return false;
        Add(BanKey.ForAddress(offender.Address), now);
        return true;
    }

    /// <summary>True when a connection from <paramref name="endPoint"/> with <paramref name="peerId"/> must be refused.</summary>
    public bool IsBanned(IPEndPoint endPoint, ReadOnlySpan<byte> peerId)
        => IsBanned(endPoint) || (!peerId.IsEmpty && Holds(BanKey.ForPeerId(peerId), _time.GetTimestamp()));

    /// <summary>True when <paramref name="endPoint"/> (or its whole address) is banned: not to be dialled or accepted.</summary>
    public bool IsBanned(IPEndPoint endPoint)
    {
        if (Count == 0) return false;
        long now = _time.GetTimestamp();
        endPoint = Normalize(endPoint);
        return Holds(BanKey.ForEndPoint(endPoint), now) || Holds(BanKey.ForAddress(endPoint.Address), now);
    }

    /// <summary>True when the whole address is banned.</summary>
    public bool IsAddressBanned(IPAddress address)
        => Count > 0 && Holds(BanKey.ForAddress(Normalize(new IPEndPoint(address, 0)).Address), _time.GetTimestamp());

    private bool Holds(BanKey key, long now)
    {
        if (!Bans.TryGetValue(key, out long expiresAt)) return false;
        if (expiresAt > now) return true;
        Bans.Remove(key);
        return false;
    }

    private void Add(BanKey key, long now)
    {
        if (!Bans.ContainsKey(key) && Bans.Count >= _options.Capacity) EvictBan(now);
        Bans[key] = now + _duration;
    }

    /// <summary>At the bound: drop what expired; if nothing did, the ban closest to its end (the oldest).</summary>
    private void EvictBan(long now)
    {
        BanKey? oldest = null;
        long oldestExpiry = long.MaxValue;
        List<BanKey>? expired = null;
        foreach ((BanKey key, long expiresAt) in Bans)
        {
            if (expiresAt <= now) (expired ??= []).Add(key);
            else if (expiresAt < oldestExpiry) (oldest, oldestExpiry) = (key, expiresAt);
        }
        if (expired is not null) foreach (BanKey key in expired) Bans.Remove(key);
        else if (oldest is { } key) Bans.Remove(key);
    }

    private void EvictOffence(long now)
    {
        IPAddress? oldest = null;
        long oldestExpiry = long.MaxValue;
        List<IPAddress>? expired = null;
        foreach ((IPAddress address, Offences record) in Offenders)
        {
            if (record.ExpiresAt <= now) (expired ??= []).Add(address);
            else if (record.ExpiresAt < oldestExpiry) (oldest, oldestExpiry) = (address, record.ExpiresAt);
        }
        if (expired is not null) foreach (IPAddress address in expired) Offenders.Remove(address);
        else if (oldest is not null) Offenders.Remove(oldest);
    }

    /// <summary>An IPv4 peer seen through a dual-stack socket is the same peer as its plain IPv4 form.</summary>
    private static IPEndPoint Normalize(IPEndPoint endPoint)
        => endPoint.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(endPoint.Address.MapToIPv4(), endPoint.Port) : endPoint;

    private sealed class Offences
    {
        public HashSet<IPEndPoint> EndPoints { get; } = [];
        public long ExpiresAt { get; set; }
    }

    /// <summary>One banned thing: an endpoint (Port >= 0), a whole address (Port -1) or a peer id (Address null).</summary>
    private readonly record struct BanKey(IPAddress? Address, int Port, string? PeerId)
    {
        public static BanKey ForEndPoint(IPEndPoint endPoint) => new(endPoint.Address, endPoint.Port, null);
        public static BanKey ForAddress(IPAddress address) => new(address, -1, null);
        public static BanKey ForPeerId(ReadOnlySpan<byte> peerId) => new(null, 0, Convert.ToHexString(peerId));
    }
}

/// <summary>Limits of a <see cref="BanList"/>.</summary>
internal sealed record BanListOptions
{
    /// <summary>The defaults, shared (immutable) by every torrent's list.</summary>
    public static readonly BanListOptions Default = new();

    /// <summary>Most bans (and most addresses with offences on record) kept at once.</summary>
    public int Capacity { get; init; } = 1024;

    /// <summary>How long a ban, and an offence counted towards an address ban, lasts.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Distinct offending endpoints of one address after which the whole address is banned.</summary>
    public int EndPointsBeforeAddressBan { get; init; } = 3;
}
