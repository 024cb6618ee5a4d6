using System.Net;

namespace Shoal.Discovery;

/// <summary>
/// What we told one peer over BEP 11 PEX, and the next message to send it: the difference between the
/// torrent's connected peers now and what that peer last heard, at most <see cref="MaxAddedPerMessage"/>
/// added and <see cref="MaxDroppedPerMessage"/> dropped per message (as libtorrent does) and at most one
/// message per <see cref="MinInterval"/>. The peer itself is never included.
/// </summary>
/// <remarks>
/// Single-threaded: one instance per connection, owned by the torrent actor, which builds the connected
/// set once per round and passes the same dictionary to every tracker. Its keys must be the peers' listen
/// endpoints (for incoming connections, the address plus the "p" of their extension handshake; leave out
/// peers whose listen port is unknown), normalised with <see cref="Normalize"/>.
/// </remarks>
public sealed class PexTracker
{
    /// <summary>Most added contacts per message.</summary>
    public const int MaxAddedPerMessage = 50;

    /// <summary>Most dropped contacts per message.</summary>
    public const int MaxDroppedPerMessage = 50;

    /// <summary>BEP 11: no more than one message per minute to a peer.</summary>
    public static readonly TimeSpan MinInterval = TimeSpan.FromSeconds(60);

    /// <summary>An incoming message earlier than this after the previous one is too soon (some slack for clock jitter).</summary>
    public static readonly TimeSpan MinIncomingInterval = TimeSpan.FromSeconds(45);

    /// <summary>New addresses one peer may hand us at once (its first message may hold all it knows)...</summary>
    public const int NewAddressBurst = 100;

    /// <summary>...and per minute after that: one full BEP 11 message. Beyond it, new addresses are ignored.</summary>
    public const int NewAddressesPerMinute = 50;

    private readonly HashSet<IPEndPoint> _told = [];
    private double _newAddressAllowance = NewAddressBurst;
    private TimeSpan? _newAddressAllowanceAt;
    private readonly List<PexPeer> _added = [];
    private readonly List<IPEndPoint> _dropped = [];
    private TimeSpan? _lastSent;
    private TimeSpan? _lastReceived;
    private IPEndPoint? _self;

    /// <summary>Creates the tracker for the peer listening at <paramref name="self"/> (null when not known yet).</summary>
    public PexTracker(IPEndPoint? self) => Self = self;

    /// <summary>The peer's own listen endpoint, never sent to it; may be learned later from its handshake.</summary>
    public IPEndPoint? Self
    {
        get => _self;
        set => _self = value is null ? null : Normalize(value);
    }

    /// <summary>How many contacts the peer currently believes we are connected to.</summary>
    public int ToldCount => _told.Count;

    /// <summary>The form endpoints are compared in: IPv4-mapped IPv6 addresses become IPv4.</summary>
    public static IPEndPoint Normalize(IPEndPoint endPoint)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        return endPoint.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(endPoint.Address.MapToIPv4(), endPoint.Port) : endPoint;
    }

    /// <summary>
    /// The next message for this peer, or null when it is too soon since the last one or nothing changed.
    /// Returning a message records it as sent at <paramref name="now"/> (a monotonic time from the caller).
    /// </summary>
    public PexMessage? NextMessage(IReadOnlyDictionary<IPEndPoint, PexFlags> connected, TimeSpan now)
    {
        ArgumentNullException.ThrowIfNull(connected);
        if (_lastSent is TimeSpan last && now - last < MinInterval) return null;

        _added.Clear();
        _dropped.Clear();
        foreach (KeyValuePair<IPEndPoint, PexFlags> peer in connected)
        {
            if (_added.Count == MaxAddedPerMessage) break;
            if (peer.Key.Equals(_self) || _told.Contains(peer.Key)) continue;
            _added.Add(new PexPeer(peer.Key, peer.Value));
        }
        foreach (IPEndPoint endPoint in _told)
        {
            if (_dropped.Count == MaxDroppedPerMessage) break;
            if (!connected.ContainsKey(endPoint) || endPoint.Equals(_self)) _dropped.Add(endPoint);
        }
        if (_added.Count == 0 && _dropped.Count == 0) return null;

        foreach (PexPeer peer in _added) _told.Add(peer.EndPoint);
        foreach (IPEndPoint endPoint in _dropped) _told.Remove(endPoint);
        _lastSent = now;
        return new PexMessage([.. _added], [.. _dropped]);
    }

    /// <summary>
    /// Takes one new address out of what this peer may hand us (<see cref="NewAddressBurst"/>, refilled at
    /// <see cref="NewAddressesPerMinute"/>); false when it has handed us that many already. A peer is one gossip source:
    /// it must not fill the candidate list, or aim our dials, alone (BEP 11, security considerations).
    /// </summary>
    public bool TryTakeNewAddress(TimeSpan now)
    {
        if (_newAddressAllowanceAt is TimeSpan last && now > last)
            _newAddressAllowance = Math.Min(NewAddressBurst, _newAddressAllowance + ((now - last).TotalMinutes * NewAddressesPerMinute));
        _newAddressAllowanceAt = now;
        if (_newAddressAllowance < 1) return false;
        _newAddressAllowance--;
        return true;
    }

    /// <summary>
    /// Call when a PEX message arrives from this peer: false when it came sooner than
    /// <see cref="MinIncomingInterval"/> after the previous one (the caller ignores it, or disconnects a
    /// repeat offender).
    /// </summary>
    public bool OnReceived(TimeSpan now)
    {
        if (_lastReceived is TimeSpan last && now - last < MinIncomingInterval) return false;
        _lastReceived = now;
        return true;
    }
}
