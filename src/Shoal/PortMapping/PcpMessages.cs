using System.Buffers.Binary;
using System.Net;

namespace Shoal.PortMapping;

/// <summary>
/// Port Control Protocol (RFC 6887) MAP requests and responses, NAT-PMP's successor on the same port (5351). Pure
/// encoding and decoding; <see cref="NatPmpClient"/> does the sending.
/// </summary>
public static class PcpMessages
{
    /// <summary>PCP's version byte.</summary>
    public const byte Version = 2;

    /// <summary>The MAP opcode.</summary>
    public const byte MapOpcode = 1;

    /// <summary>Length of a MAP request and of a MAP response without options.</summary>
    public const int MapLength = 24 + 36;

    /// <summary>Length of the mapping nonce.</summary>
    public const int NonceLength = 12;

    /// <summary>Result code UNSUPP_VERSION.</summary>
    public const byte UnsupportedVersion = 1;

    /// <summary>A MAP request for <paramref name="internalPort"/> from <paramref name="clientAddress"/>; lifetime 0 deletes it.</summary>
    public static byte[] MapRequest(ReadOnlySpan<byte> nonce, PortMappingProtocol protocol, int internalPort, int suggestedExternalPort,
        uint lifetimeSeconds, IPAddress clientAddress)
    {
        if (nonce.Length != NonceLength) throw new ArgumentException("a PCP nonce is 12 bytes", nameof(nonce));
        var packet = new byte[MapLength];
        packet[0] = Version;
        packet[1] = MapOpcode; // R bit clear: a request
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(4), lifetimeSeconds);
        WriteAddress(packet.AsSpan(8, 16), clientAddress);
        Span<byte> map = packet.AsSpan(24);
        nonce.CopyTo(map);
        map[12] = ProtocolNumber(protocol);
        BinaryPrimitives.WriteUInt16BigEndian(map[16..], checked((ushort)internalPort));
        BinaryPrimitives.WriteUInt16BigEndian(map[18..], checked((ushort)suggestedExternalPort));
        WriteAddress(map.Slice(20, 16), IPAddress.Any); // no preferred external address: ::ffff:0.0.0.0
        return packet;
    }

    /// <summary>IANA protocol number: 6 TCP, 17 UDP.</summary>
    public static byte ProtocolNumber(PortMappingProtocol protocol) => protocol == PortMappingProtocol.Tcp ? (byte)6 : (byte)17;

    /// <summary>
    /// Reads a MAP response to the request with <paramref name="nonce"/>. False for anything else (another opcode or
    /// nonce, a short packet: a stray datagram to skip). An error result code throws, except UNSUPP_VERSION, which
    /// sets <paramref name="unsupportedVersion"/> (the caller falls back to NAT-PMP). A NAT-PMP server's "unsupported
    /// version" answer (version 0, result 1) counts as UNSUPP_VERSION too.
    /// </summary>
    /// <exception cref="PortMappingException">The gateway answered with another error result code.</exception>
    public static bool TryReadMapResponse(ReadOnlySpan<byte> datagram, ReadOnlySpan<byte> nonce, out PcpMapResponse response, out bool unsupportedVersion)
    {
        response = default;
        unsupportedVersion = false;
        if (datagram.Length >= 4 && datagram[0] == NatPmpMessages.Version)
        {
            unsupportedVersion = BinaryPrimitives.ReadUInt16BigEndian(datagram[2..]) == NatPmpMessages.UnsupportedVersion;
            return unsupportedVersion;
        }
        if (datagram.Length < 4 || datagram[0] != Version || datagram[1] != (0x80 | MapOpcode)) return false;
        byte result = datagram[3];
        if (result == UnsupportedVersion)
        {
            unsupportedVersion = true;
            return true;
        }
        if (datagram.Length < MapLength || !datagram.Slice(24, NonceLength).SequenceEqual(nonce)) return false;
        if (result != 0) throw new PortMappingException($"PCP error {result} ({ResultName(result)})");
        uint lifetime = BinaryPrimitives.ReadUInt32BigEndian(datagram[4..]);
        uint epoch = BinaryPrimitives.ReadUInt32BigEndian(datagram[8..]);
        ReadOnlySpan<byte> map = datagram[24..];
        int internalPort = BinaryPrimitives.ReadUInt16BigEndian(map[16..]);
        int externalPort = BinaryPrimitives.ReadUInt16BigEndian(map[18..]);
        var address = new IPAddress(map.Slice(20, 16));
        response = new PcpMapResponse(lifetime, epoch, internalPort, externalPort, address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address);
        return true;
    }

    /// <summary>The RFC 6887 name of a result code.</summary>
    public static string ResultName(byte code) => code switch
    {
        0 => "SUCCESS",
        1 => "UNSUPP_VERSION",
        2 => "NOT_AUTHORIZED",
        3 => "MALFORMED_REQUEST",
        4 => "UNSUPP_OPCODE",
        5 => "UNSUPP_OPTION",
        6 => "MALFORMED_OPTION",
        7 => "NETWORK_FAILURE",
        8 => "NO_RESOURCES",
        9 => "UNSUPP_PROTOCOL",
        10 => "USER_EX_QUOTA",
        11 => "CANNOT_PROVIDE_EXTERNAL",
        12 => "ADDRESS_MISMATCH",
        13 => "EXCESSIVE_REMOTE_PEERS",
        _ => "unknown result",
    };

    private static void WriteAddress(Span<byte> destination, IPAddress address)
    {
        IPAddress v6 = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? address.MapToIPv6() : address;
        v6.TryWriteBytes(destination, out _);
    }
}

/// <summary>A decoded PCP MAP response.</summary>
/// <param name="LifetimeSeconds">How long the mapping lives.</param>
/// <param name="Epoch">The server's epoch time.</param>
/// <param name="InternalPort">The mapping's internal port.</param>
/// <param name="ExternalPort">The assigned external port.</param>
/// <param name="ExternalAddress">The assigned external address.</param>
public readonly record struct PcpMapResponse(uint LifetimeSeconds, uint Epoch, int InternalPort, int ExternalPort, IPAddress ExternalAddress);
