using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Shoal.Discovery;

/// <summary>The three ut_holepunch messages of BEP 55.</summary>
public enum HolepunchMessageType : byte
{
    /// <summary>To a relay: send connect messages to me and to this target.</summary>
    Rendezvous = 0,

    /// <summary>From a relay: open a uTP connection to this endpoint (the other side does the same towards you).</summary>
    Connect = 1,

    /// <summary>From a relay: the rendezvous cannot be completed (see <see cref="HolepunchError"/>).</summary>
    Error = 2,
}

/// <summary>Why a relay could not complete a rendezvous (BEP 55).</summary>
public enum HolepunchError : uint
{
    /// <summary>Not an error (rendezvous and connect messages).</summary>
    None = 0,

    /// <summary>The target endpoint is invalid.</summary>
    NoSuchPeer = 1,

    /// <summary>The relay is not connected to the target.</summary>
    NotConnected = 2,

    /// <summary>The target does not support ut_holepunch.</summary>
    NoSupport = 3,

    /// <summary>The target is the relay itself.</summary>
    NoSelf = 4,
}

/// <summary>
/// One BEP 55 ut_holepunch message: its type, the endpoint it is about (the target of a rendezvous, the peer to
/// dial of a connect, the target an error answers for) and the error code. The payload is binary, not bencoded:
/// msg_type (1 byte), addr_type (0 IPv4, 1 IPv6), the address (4 or 16 bytes), the port and the error code, all
/// big-endian: 12 bytes for IPv4, 24 for IPv6. <see cref="Parse"/> accepts exactly that and nothing else.
/// </summary>
public readonly record struct HolepunchMessage(HolepunchMessageType Type, IPEndPoint EndPoint, HolepunchError Error = HolepunchError.None)
{
    /// <summary>The extension's name in the BEP 10 handshake's "m" dictionary.</summary>
    public const string ExtensionName = "ut_holepunch";

    /// <summary>Payload length with an IPv4 address.</summary>
    public const int Ipv4Length = 12;

    /// <summary>Payload length with an IPv6 address.</summary>
    public const int Ipv6Length = 24;

    /// <summary>Parses a ut_holepunch payload (the bytes after the extended message id).</summary>
    /// <exception cref="ExtensionMessageException">The payload is not exactly one well-formed message.</exception>
    public static HolepunchMessage Parse(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < 2) throw new ExtensionMessageException($"ut_holepunch message of {payload.Length} bytes is too short");
        byte type = payload[0];
        if (type > (byte)HolepunchMessageType.Error) throw new ExtensionMessageException($"ut_holepunch message type {type} is unknown");
        int addressLength = payload[1] switch
        {
            0 => 4,
            1 => 16,
            _ => throw new ExtensionMessageException($"ut_holepunch address type {payload[1]} is unknown"),
        };
        if (payload.Length != 2 + addressLength + 2 + 4)
            throw new ExtensionMessageException($"ut_holepunch message with a {(addressLength == 4 ? "IPv4" : "IPv6")} address is {payload.Length} bytes, not {2 + addressLength + 6}");
        var address = new IPAddress(payload.Slice(2, addressLength));
        int port = BinaryPrimitives.ReadUInt16BigEndian(payload[(2 + addressLength)..]);
        uint error = BinaryPrimitives.ReadUInt32BigEndian(payload[(4 + addressLength)..]);
        return new HolepunchMessage((HolepunchMessageType)type, new IPEndPoint(address, port), (HolepunchError)error);
    }

    /// <summary>The payload's length.</summary>
    public int Length => IsIpv4(EndPoint) ? Ipv4Length : Ipv6Length;

    /// <summary>Writes the payload into <paramref name="destination"/> (at least <see cref="Length"/> bytes); returns its length.</summary>
    public int WriteTo(Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(EndPoint);
        bool v4 = IsIpv4(EndPoint);
        IPAddress address = v4 ? EndPoint.Address.MapToIPv4() : EndPoint.Address;
        int addressLength = v4 ? 4 : 16;
        destination[0] = (byte)Type;
        destination[1] = v4 ? (byte)0 : (byte)1;
        if (!address.TryWriteBytes(destination.Slice(2, addressLength), out _)) throw new ArgumentException("the destination is too small", nameof(destination));
        BinaryPrimitives.WriteUInt16BigEndian(destination[(2 + addressLength)..], (ushort)EndPoint.Port);
        BinaryPrimitives.WriteUInt32BigEndian(destination[(4 + addressLength)..], (uint)Error);
        return 2 + addressLength + 6;
    }

    /// <summary>The payload as a new array.</summary>
    public byte[] Encode()
    {
        byte[] payload = new byte[Length];
        WriteTo(payload);
        return payload;
    }

    private static bool IsIpv4(IPEndPoint endPoint) =>
        endPoint.AddressFamily == AddressFamily.InterNetwork || endPoint.Address.IsIPv4MappedToIPv6;
}
