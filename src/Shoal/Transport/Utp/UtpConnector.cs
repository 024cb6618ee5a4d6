using System.Net;
using System.Net.Sockets;

namespace Shoal.Transport.Utp;

/// <summary>
/// Reaches peers over uTP from the session's UDP port: through the IPv4 multiplexer for IPv4 peers, the IPv6 one for
/// IPv6 peers (either may be missing, and the connector then cannot reach that family).
/// </summary>
public sealed class UtpConnector : IPeerConnector
{
    /// <summary>The name uTP is remembered by.</summary>
    public const string UtpName = "utp";

    private readonly UtpMultiplexer? _ipv4;
    private readonly UtpMultiplexer? _ipv6;

    /// <summary>Creates the connector over the port's multiplexers (at least one).</summary>
    public UtpConnector(UtpMultiplexer? ipv4, UtpMultiplexer? ipv6)
    {
        if (ipv4 is null && ipv6 is null) throw new ArgumentException("a uTP connector needs at least one multiplexer");
        _ipv4 = ipv4;
        _ipv6 = ipv6;
    }

    /// <inheritdoc />
    public string Name => UtpName;

    /// <inheritdoc />
    public bool CanReach(IPEndPoint endPoint) => For(endPoint) is not null;

    /// <inheritdoc />
    public async ValueTask<PeerTransport> ConnectAsync(IPEndPoint endPoint, CancellationToken cancellationToken)
    {
        UtpMultiplexer multiplexer = For(endPoint) ?? throw new SocketException((int)SocketError.AddressFamilyNotSupported);
        return await multiplexer.ConnectAsync(endPoint, cancellationToken).ConfigureAwait(false);
    }

    private UtpMultiplexer? For(IPEndPoint endPoint) =>
        endPoint.AddressFamily == AddressFamily.InterNetworkV6 && !endPoint.Address.IsIPv4MappedToIPv6 ? _ipv6 : _ipv4;
}
