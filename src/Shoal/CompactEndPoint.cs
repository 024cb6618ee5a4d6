using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Shoal;

/// <summary>
/// The compact endpoint form that trackers (BEP 23, BEP 7), peer exchange (BEP 11) and the DHT (BEP 5, BEP 32)
/// share: the address then the port, big-endian; 6 bytes for IPv4 (IPv4-mapped IPv6 travels as IPv4), 18 for IPv6.
/// </summary>
public static class CompactEndPoint
{
    /// <summary>Bytes of a compact IPv4 endpoint.</summary>
    public const int V4Length = 6;

    /// <summary>Bytes of a compact IPv6 endpoint.</summary>
    public const int V6Length = 18;

    /// <summary>True when the address travels as IPv4 (plain or IPv4-mapped IPv6).</summary>
    public static bool IsV4(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return address.AddressFamily == AddressFamily.InterNetwork || address.IsIPv4MappedToIPv6;
    }

    /// <summary>The compact length of <paramref name="endPoint"/>: 6 or 18.</summary>
    public static int LengthOf(IPEndPoint endPoint)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        return IsV4(endPoint.Address) ? V4Length : V6Length;
    }

    /// <summary>Writes the compact form of <paramref name="endPoint"/>; returns the bytes written (6 or 18).</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is too small.</exception>
    public static int Write(IPEndPoint endPoint, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        IPAddress address = endPoint.Address.IsIPv4MappedToIPv6 ? endPoint.Address.MapToIPv4() : endPoint.Address;
        if (!address.TryWriteBytes(destination, out int written) || destination.Length < written + 2)
            throw new ArgumentException("destination too small", nameof(destination));
        BinaryPrimitives.WriteUInt16BigEndian(destination[written..], (ushort)endPoint.Port);
        return written + 2;
    }

    /// <summary>Reads one 6- or 18-byte compact endpoint (callers check the length and report bad input in their own terms).</summary>
    /// <exception cref="ArgumentException">Another length.</exception>
    public static IPEndPoint Read(ReadOnlySpan<byte> entry)
    {
        if (entry.Length is not (V4Length or V6Length))
            throw new ArgumentException($"a compact endpoint is 6 or 18 bytes, not {entry.Length}", nameof(entry));
        return new IPEndPoint(new IPAddress(entry[..^2]), BinaryPrimitives.ReadUInt16BigEndian(entry[^2..]));
    }
}
