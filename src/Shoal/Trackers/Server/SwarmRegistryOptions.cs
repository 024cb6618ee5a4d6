using Shoal.Metainfo;

namespace Shoal.Trackers.Server;

/// <summary>Policy and bounds of <see cref="SwarmRegistry"/>.</summary>
public sealed record SwarmRegistryOptions
{
    /// <summary>The announce interval told to peers.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>The min interval told to peers.</summary>
    public TimeSpan MinInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>A peer not heard from for this long is forgotten (default: two intervals).</summary>
    public TimeSpan PeerTimeout { get; init; } = TimeSpan.FromMinutes(60);

    /// <summary>Peers returned when the request does not say.</summary>
    public int DefaultNumWant { get; init; } = 50;

    /// <summary>Most peers returned, whatever the request asks.</summary>
    public int MaxNumWant { get; init; } = 200;

    /// <summary>Most torrents tracked; an announce for a new torrent beyond it is refused with a failure reason.</summary>
    public int MaxTorrents { get; init; } = 100_000;

    /// <summary>Most peers per torrent; a new peer beyond it is refused with a failure reason.</summary>
    public int MaxPeersPerTorrent { get; init; } = 20_000;

    /// <summary>
    /// Most peers of one torrent from one address (an IPv6 /64): several, since users behind one NAT share an address.
    /// An announce from a further port of that address replaces its entry heard from least recently, so one host
    /// announcing from thousands of ports holds this many entries, and a NAT user whose port changed is not locked out.
    /// </summary>
    public int MaxPeersPerAddress { get; init; } = 8;

    /// <summary>When set, only these torrents are served; others are refused with a failure reason.</summary>
    public IReadOnlySet<InfoHash>? AllowList { get; init; }

    /// <summary>Where the random starting points of the peer lists handed out come from; null seeds from the OS.</summary>
    public Random? Random { get; init; }
}
