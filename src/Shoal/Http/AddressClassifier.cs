using System.Net;
using System.Net.Sockets;

namespace Shoal.Http;

/// <summary>
/// The usual address scopes: loopback (127.0.0.0/8, ::1, and 0.0.0.0 and :: which reach this machine when connected
/// to), local (10/8, 172.16/12, 192.168/16, 169.254/16 link-local, 100.64/10 shared address space, fe80::/10,
/// fec0::/10, fc00::/7), everything else global. An IPv4-mapped IPv6 address is judged as its IPv4 address. Pure.
/// </summary>
public sealed class AddressClassifier : IAddressClassifier
{
    /// <summary>The one instance (the class holds no state).</summary>
    public static AddressClassifier Standard { get; } = new();

    private AddressClassifier()
    {
    }

    /// <inheritdoc />
    public AddressScope Classify(IPEndPoint endPoint)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        return ScopeOf(endPoint.Address);
    }

    /// <summary>The scope of <paramref name="address"/>.</summary>
    public static AddressScope ScopeOf(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            Span<byte> b = stackalloc byte[4];
            address.TryWriteBytes(b, out _);
            return b[0] switch
            {
                127 or 0 => AddressScope.Loopback,
                10 => AddressScope.Local,
                172 when b[1] is >= 16 and <= 31 => AddressScope.Local,
                192 when b[1] == 168 => AddressScope.Local,
                169 when b[1] == 254 => AddressScope.Local,
                100 when b[1] is >= 64 and <= 127 => AddressScope.Local,
                _ => AddressScope.Global,
            };
        }
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            if (address.Equals(IPAddress.IPv6Loopback) || address.Equals(IPAddress.IPv6Any)) return AddressScope.Loopback;
            Span<byte> b = stackalloc byte[16];
            address.TryWriteBytes(b, out _);
            if (b[0] == 0xFE && (b[1] & 0xC0) is 0x80 or 0xC0) return AddressScope.Local; // fe80::/10 link-local, fec0::/10 site-local
            if ((b[0] & 0xFE) == 0xFC) return AddressScope.Local; // fc00::/7 unique-local
            return AddressScope.Global;
        }
        return AddressScope.Global;
    }
}
