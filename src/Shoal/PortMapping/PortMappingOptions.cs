using System.Net;
using System.Net.Sockets;

namespace Shoal.PortMapping;

/// <summary>Settings of a <see cref="PortMapper"/>: which protocols, where the gateway is, lease lengths and retries.</summary>
public sealed record PortMappingOptions
{
    /// <summary>The SSDP multicast group UPnP devices answer M-SEARCH on.</summary>
    public static readonly IPEndPoint DefaultSsdpEndPoint = new(IPAddress.Parse("239.255.255.250"), 1900);

    /// <summary>Map ports through a UPnP Internet Gateway Device (WANIPConnection / WANPPPConnection).</summary>
    public bool EnableUpnp { get; init; } = true;

    /// <summary>Map ports through PCP (RFC 6887), falling back to NAT-PMP (RFC 6886), at the default gateway.</summary>
    public bool EnableNatPmp { get; init; } = true;

    /// <summary>The gateway NAT-PMP/PCP talks to; null takes the default gateway from the system's routing table.</summary>
    public IPAddress? Gateway { get; init; }

    /// <summary>Where M-SEARCH goes (the SSDP multicast group, or a device's address in tests).</summary>
    public IPEndPoint SsdpEndPoint { get; init; } = DefaultSsdpEndPoint;

    /// <summary>How long SSDP discovery waits for answers.</summary>
    public TimeSpan DiscoveryTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Lease asked of a UPnP gateway; renewed at half of it. Gateways that only keep permanent leases get those.</summary>
    public TimeSpan UpnpLeaseDuration { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Lifetime asked of a NAT-PMP/PCP gateway (RFC 6886 recommends two hours); renewed at half of what it grants.</summary>
    public TimeSpan NatPmpLifetime { get; init; } = TimeSpan.FromHours(2);

    /// <summary>
    /// Waits between failed attempts of one protocol (discovery or mapping), in order; after the last one the protocol
    /// gives up for the session with a log line. Bounded: a network without a gateway costs a handful of packets.
    /// </summary>
    public IReadOnlyList<TimeSpan> RetryDelays { get; init; } = [TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(10)];

    /// <summary>How long disposal waits for a method's gateway to confirm its deletions before it gives up.</summary>
    public TimeSpan RemovalTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>The mapping description a UPnP gateway shows its owner.</summary>
    public string Description { get; init; } = "Shoal";

    /// <summary>Clock of every delay, lease and timeout.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Where progress and failures go, one line each; null discards them.</summary>
    public Action<string>? Log { get; init; }

    /// <summary>
    /// Creates every socket the mapper uses (UDP for SSDP and NAT-PMP/PCP, TCP for the device's HTTP): null creates
    /// them normally. A hook for binding the mapper to another network namespace or interface, as the tests do.
    /// </summary>
    public Func<AddressFamily, SocketType, ProtocolType, Socket>? SocketFactory { get; init; }

    internal Socket CreateSocket(AddressFamily family, SocketType type, ProtocolType protocol) =>
        SocketFactory?.Invoke(family, type, protocol) ?? new Socket(family, type, protocol);
}
