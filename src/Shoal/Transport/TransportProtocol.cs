namespace Shoal.Transport;

/// <summary>What carries a peer connection's bytes.</summary>
public enum TransportProtocol
{
    /// <summary>TCP (also in-memory test transports, which behave like it).</summary>
    Tcp,

    /// <summary>uTP (BEP 29) over the session's UDP port.</summary>
    Utp,
}

/// <summary>The short names transports are remembered, logged and shown by.</summary>
public static class TransportProtocolNames
{
    /// <summary>"tcp" or "utp" (the names of the session's connectors).</summary>
    public static string Name(TransportProtocol protocol) => protocol == TransportProtocol.Utp ? "utp" : "tcp";

    /// <summary>"TCP" or "uTP", for people.</summary>
    public static string Display(TransportProtocol protocol) => protocol == TransportProtocol.Utp ? "uTP" : "TCP";
}
