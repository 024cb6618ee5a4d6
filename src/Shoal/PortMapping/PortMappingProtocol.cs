namespace Shoal.PortMapping;

/// <summary>The transport a port mapping forwards.</summary>
public enum PortMappingProtocol
{
    /// <summary>TCP: peer connections.</summary>
    Tcp,

    /// <summary>UDP: the DHT (and uTP).</summary>
    Udp,
}
