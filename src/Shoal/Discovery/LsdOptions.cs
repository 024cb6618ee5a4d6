using System.Net;

namespace Shoal.Discovery;

/// <summary>Settings of <see cref="LocalServiceDiscovery"/>; the defaults are BEP 14's groups and rates.</summary>
public sealed record LsdOptions
{
    /// <summary>BEP 14's IPv4 group, 239.192.152.143:6771 (a new instance each time: IPEndPoint is mutable).</summary>
    public static IPEndPoint DefaultIpv4Group => new(new IPAddress([239, 192, 152, 143]), 6771);

    /// <summary>BEP 14's IPv6 group, [ff15::efc0:988f]:6771.</summary>
    public static IPEndPoint DefaultIpv6Group => new(IPAddress.Parse("ff15::efc0:988f"), 6771);

    /// <summary>The IPv4 multicast group and port (tests use another port); null disables IPv4.</summary>
    public IPEndPoint? Ipv4Group { get; init; } = DefaultIpv4Group;

    /// <summary>The IPv6 multicast group and port; null disables IPv6. Failing to join it is not an error.</summary>
    public IPEndPoint? Ipv6Group { get; init; } = DefaultIpv6Group;

    /// <summary>Local IPv4 address of the interface to join and send on; null lets the kernel choose.</summary>
    public IPAddress? Ipv4Interface { get; init; }

    /// <summary>Index of the interface for IPv6; 0 lets the kernel choose.</summary>
    public int Ipv6InterfaceIndex { get; init; }

    /// <summary>
    /// Multicast loopback: our datagrams are also delivered on this host, so other clients here (or a second
    /// instance in a test) see them. Our own are recognised by their cookie and ignored.
    /// </summary>
    public bool EnableLoopback { get; init; } = true;

    /// <summary>Multicast TTL / hop limit; 1 keeps announces on the local link, 0 on this host.</summary>
    public int TimeToLive { get; init; } = 1;

    /// <summary>Minimum time between two announces of the same info-hash (BEP 14: at most one per minute).</summary>
    public TimeSpan MinAnnounceInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Most announces accepted from one source address per minute; the rest are dropped.</summary>
    public int MaxAnnouncesPerSourcePerMinute { get; init; } = 30;

    /// <summary>The clock for the rate limits.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
