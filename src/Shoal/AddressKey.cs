using System.Buffers.Binary;
using System.Net;

namespace Shoal;

/// <summary>
/// An address as the per-address limits count it: an IPv4 address (plain or IPv4-mapped) on its own, an IPv6 address
/// by its /64, since one host is routinely given a whole /64 and could otherwise pose as millions of peers.
/// </summary>
/// <param name="Bits">The IPv4 address, or the IPv6 /64 prefix.</param>
/// <param name="IsV6">Which family, so that the two never compare equal.</param>
public readonly record struct AddressKey(ulong Bits, bool IsV6)
{
    /// <summary>The key of <paramref name="address"/>.</summary>
    public static AddressKey From(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out int written);
        return written == 4
            ? new AddressKey(BinaryPrimitives.ReadUInt32BigEndian(bytes), IsV6: false)
            : new AddressKey(BinaryPrimitives.ReadUInt64BigEndian(bytes), IsV6: true);
    }
}
