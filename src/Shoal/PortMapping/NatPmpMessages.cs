using System.Buffers.Binary;
using System.Net;

namespace Shoal.PortMapping;

/// <summary>
/// NAT-PMP (RFC 6886) packets: the external-address request and the UDP/TCP mapping requests, and their responses.
/// Pure encoding and decoding; <see cref="NatPmpClient"/> does the sending.
/// </summary>
public static class NatPmpMessages
{
    /// <summary>The port NAT-PMP and PCP servers listen on.</summary>
    public const int ServerPort = 5351;

    /// <summary>NAT-PMP's version byte.</summary>
    public const byte Version = 0;

    /// <summary>Opcode of the external address request.</summary>
    public const byte ExternalAddressOpcode = 0;

    /// <summary>Result code "unsupported version" (also what a NAT-PMP server answers a PCP request with).</summary>
    public const ushort UnsupportedVersion = 1;

    /// <summary>The 2-byte external address request.</summary>
    public static byte[] ExternalAddressRequest() => [Version, ExternalAddressOpcode];

    /// <summary>A 12-byte mapping request; lifetime 0 (with external port 0) deletes the mapping.</summary>
    public static byte[] MapRequest(PortMappingProtocol protocol, int internalPort, int suggestedExternalPort, uint lifetimeSeconds)
    {
        var packet = new byte[12];
        packet[0] = Version;
        packet[1] = Opcode(protocol);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(4), checked((ushort)internalPort));
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(6), checked((ushort)suggestedExternalPort));
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(8), lifetimeSeconds);
        return packet;
    }

    /// <summary>1 for UDP, 2 for TCP.</summary>
    public static byte Opcode(PortMappingProtocol protocol) => protocol == PortMappingProtocol.Udp ? (byte)1 : (byte)2;

    /// <summary>
    /// Reads a response to <paramref name="requestOpcode"/>. False when the datagram is not one (another opcode, too
    /// short, a different version: a stray packet to skip); a result code other than success throws.
    /// </summary>
    /// <exception cref="PortMappingException">The gateway answered with an error result code.</exception>
    public static bool TryReadResponse(ReadOnlySpan<byte> datagram, byte requestOpcode, out NatPmpResponse response)
    {
        response = default;
        if (datagram.Length < 8 || datagram[0] != Version || datagram[1] != 128 + requestOpcode) return false;
        ushort result = BinaryPrimitives.ReadUInt16BigEndian(datagram[2..]);
        if (result != 0) throw new PortMappingException($"NAT-PMP error {result} ({ResultName(result)})");
        uint epoch = BinaryPrimitives.ReadUInt32BigEndian(datagram[4..]);
        if (requestOpcode == ExternalAddressOpcode)
        {
            if (datagram.Length < 12) return false;
            response = new NatPmpResponse(epoch, new IPAddress(datagram.Slice(8, 4)), 0, 0, 0);
            return true;
        }
        if (datagram.Length < 16) return false;
        response = new NatPmpResponse(epoch, null, BinaryPrimitives.ReadUInt16BigEndian(datagram[8..]),
            BinaryPrimitives.ReadUInt16BigEndian(datagram[10..]), BinaryPrimitives.ReadUInt32BigEndian(datagram[12..]));
        return true;
    }

    /// <summary>The RFC 6886 name of a result code.</summary>
    public static string ResultName(ushort code) => code switch
    {
        0 => "success",
        1 => "unsupported version",
        2 => "not authorized or refused",
        3 => "network failure",
        4 => "out of resources",
        5 => "unsupported opcode",
        _ => "unknown result",
    };
}

/// <summary>A decoded NAT-PMP response.</summary>
/// <param name="Epoch">Seconds since the gateway's port-mapping table was (re)initialised.</param>
/// <param name="ExternalAddress">The external IPv4 address (external-address responses only).</param>
/// <param name="InternalPort">The mapping's internal port (mapping responses only).</param>
/// <param name="ExternalPort">The external port the gateway assigned (mapping responses only).</param>
/// <param name="LifetimeSeconds">How long the mapping lives (mapping responses only).</param>
public readonly record struct NatPmpResponse(uint Epoch, IPAddress? ExternalAddress, int InternalPort, int ExternalPort, uint LifetimeSeconds);
