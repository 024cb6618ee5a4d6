using System.Net;
using System.Net.Sockets;

namespace Shoal;

/// <summary>
/// Which endpoints another machine can name for us to contact at all: peers and DHT nodes. Every address a torrent
/// would dial passes here first, whoever named it (PEX, a tracker, the DHT, local discovery, a magnet link), and so
/// does every DHT node a lookup or a PORT message would query, so none of them can make us send to a network's
/// broadcast address, a multicast group or "this network", or a port nobody can listen on. Pure.
/// </summary>
/// <remarks>
/// Loopback and private ranges stay allowed: swarms on one machine or one LAN are real. Our own listen address is
/// refused by the session (<see cref="Swarm.SessionContext.IsOwnListenEndPoint"/>), which knows it.
/// </remarks>
internal static class RemoteEndPointRules
{
    /// <summary>Why <paramref name="endPoint"/> cannot be a peer or a DHT node, or null when it can.</summary>
    public static string? WhyNotRemote(IPEndPoint endPoint)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        if (endPoint.Port is <= 0 or > 65535) return "port 0";
        IPAddress address = endPoint.Address.IsIPv4MappedToIPv6 ? endPoint.Address.MapToIPv4() : endPoint.Address;
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            Span<byte> bytes = stackalloc byte[4];
            address.TryWriteBytes(bytes, out _);
            if (bytes[0] == 0) return "\"this network\" (0.0.0.0/8)";
            if (bytes[0] is >= 224 and <= 239) return "a multicast address";
            if (bytes[0] >= 240) return "a reserved or broadcast address (240.0.0.0/4)";
            return null;
        }
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            if (address.Equals(IPAddress.IPv6Any)) return "the unspecified address";
            if (address.IsIPv6Multicast) return "a multicast address";
            return null;
        }
        return "not an IP address";
    }
}
