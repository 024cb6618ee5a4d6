using System.Net;

namespace Shoal.PortMapping;

/// <summary>One port mapping as a snapshot: what was asked, through which protocol, and what the gateway granted.</summary>
/// <param name="Method">"UPnP", "PCP" or "NAT-PMP".</param>
/// <param name="Protocol">TCP or UDP.</param>
/// <param name="InternalPort">Our port.</param>
/// <param name="ExternalPort">The gateway's port forwarded to it; null until mapped.</param>
/// <param name="ExternalAddress">The gateway's external address, when known.</param>
/// <param name="ExpiresAt">When the lease ends unless renewed; null for a permanent lease or before mapping.</param>
/// <param name="Error">Why the last attempt failed; null when it is mapped.</param>
public sealed record PortMappingStatus(
    string Method,
    PortMappingProtocol Protocol,
    int InternalPort,
    int? ExternalPort,
    IPAddress? ExternalAddress,
    DateTimeOffset? ExpiresAt,
    string? Error);
