namespace Shoal.PortMapping;

/// <summary>A port to forward: the same external port is asked for, the gateway may grant another.</summary>
/// <param name="Protocol">TCP or UDP.</param>
/// <param name="Port">Our local port.</param>
public readonly record struct MappingRequest(PortMappingProtocol Protocol, int Port)
{
    /// <summary>"TCP 6881".</summary>
    public override string ToString() => $"{(Protocol == PortMappingProtocol.Tcp ? "TCP" : "UDP")} {Port}";
}
