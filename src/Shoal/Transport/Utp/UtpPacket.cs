using System.Buffers.Binary;
using Shoal.Transport.Udp;

namespace Shoal.Transport.Utp;

/// <summary>
/// One parsed uTP packet (BEP 29): the 20-byte header, the selective-ack bitmask if present, and the payload. A view
/// over the datagram it was parsed from (valid only as long as that buffer). <see cref="TryParse"/> accepts only
/// well-formed version 1 packets, so the state machine never sees a truncated header, an extension running past the
/// datagram, an unknown packet type or a data packet without data.
/// </summary>
public readonly ref struct UtpPacket
{
    /// <summary>Bytes of the fixed header.</summary>
    public const int HeaderLength = 20;

    /// <summary>The only protocol version.</summary>
    public const byte Version = 1;

    /// <summary>Extension id of the selective acknowledgement (BEP 29).</summary>
    public const byte SelectiveAckExtension = 1;

    /// <summary>
    /// Extension id of the padding that makes an ordinary packet an MTU probe. Not in BEP 29, which says unknown
    /// extensions are skipped (libtorrent and libutp do): the padding carries nothing, so a lost probe can be resent
    /// without it at a size that is known to get through.
    /// </summary>
    public const byte PaddingExtension = 0xF0;

    /// <summary>
    /// Most extension headers one packet may chain. Real peers send at most two (selective ack, libtorrent's close
    /// reason), our MTU probes up to eight padding blocks; a longer chain is junk and is refused rather than walked.
    /// </summary>
    public const int MaxExtensions = 12;

    /// <summary>The packet type.</summary>
    public UtpPacketType Type { get; init; }

    /// <summary>The connection id the packet is addressed to.</summary>
    public ushort ConnectionId { get; init; }

    /// <summary>The sender's clock when it sent the packet, in microseconds (low 32 bits).</summary>
    public uint TimestampMicros { get; init; }

    /// <summary>The sender's latest one-way delay measurement of our packets (0: none yet).</summary>
    public uint TimestampDifferenceMicros { get; init; }

    /// <summary>Bytes the sender can still receive.</summary>
    public uint WindowSize { get; init; }

    /// <summary>The packet's sequence number.</summary>
    public ushort SequenceNumber { get; init; }

    /// <summary>The last sequence number the sender received in order from us.</summary>
    public ushort AckNumber { get; init; }

    /// <summary>The selective ack bitmask (bit 0 of byte 0 is AckNumber + 2); empty when the packet has none.</summary>
    public ReadOnlySpan<byte> SelectiveAck { get; init; }

    /// <summary>The payload (data, or whatever a peer put after the headers of another type).</summary>
    public ReadOnlySpan<byte> Payload { get; init; }

    /// <summary>Parses <paramref name="datagram"/>; false (and a default packet) when it is not a valid uTP packet.</summary>
    public static bool TryParse(ReadOnlySpan<byte> datagram, out UtpPacket packet)
    {
        packet = default;
        if (!DatagramShapes.IsUtp(datagram)) return false; // the shape the shared UDP port routes to uTP
        var type = (UtpPacketType)(datagram[0] >> 4);

        ReadOnlySpan<byte> selectiveAck = default;
        int extension = datagram[1];
        int offset = HeaderLength;
        for (int count = 0; extension != 0; count++)
        {
            if (count == MaxExtensions || datagram.Length - offset < 2) return false;
            int next = datagram[offset];
            int length = datagram[offset + 1];
            offset += 2;
            if (datagram.Length - offset < length) return false;
            if (extension == SelectiveAckExtension)
            {
                // BEP 29 asks for a multiple of 4 bytes, but libtorrent sends just as many bytes as its reorder buffer
                // spans: any non-empty mask is accepted; a second mask in one packet is not.
                if (length == 0 || !selectiveAck.IsEmpty) return false;
                selectiveAck = datagram.Slice(offset, length);
            }
            // Other extensions (libtorrent's close reason, the retired bitfield) carry nothing we act on: skipped.
            offset += length;
            extension = next;
        }

        ReadOnlySpan<byte> payload = datagram[offset..];
        if (type == UtpPacketType.Data && payload.IsEmpty) return false;

        packet = new UtpPacket
        {
            Type = type,
            ConnectionId = BinaryPrimitives.ReadUInt16BigEndian(datagram[2..]),
            TimestampMicros = BinaryPrimitives.ReadUInt32BigEndian(datagram[4..]),
            TimestampDifferenceMicros = BinaryPrimitives.ReadUInt32BigEndian(datagram[8..]),
            WindowSize = BinaryPrimitives.ReadUInt32BigEndian(datagram[12..]),
            SequenceNumber = BinaryPrimitives.ReadUInt16BigEndian(datagram[16..]),
            AckNumber = BinaryPrimitives.ReadUInt16BigEndian(datagram[18..]),
            SelectiveAck = selectiveAck,
            Payload = payload,
        };
        return true;
    }

    /// <summary>
    /// Writes a fixed header into <paramref name="destination"/> (at least <see cref="HeaderLength"/> bytes);
    /// <paramref name="firstExtension"/> is the id of the extension that follows it (0: none).
    /// </summary>
    public static void WriteHeader(Span<byte> destination, UtpPacketType type, byte firstExtension, ushort connectionId,
        uint timestampMicros, uint timestampDifferenceMicros, uint windowSize, ushort sequenceNumber, ushort ackNumber)
    {
        destination[0] = (byte)(((int)type << 4) | Version);
        destination[1] = firstExtension;
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], connectionId);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], timestampMicros);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], timestampDifferenceMicros);
        BinaryPrimitives.WriteUInt32BigEndian(destination[12..], windowSize);
        BinaryPrimitives.WriteUInt16BigEndian(destination[16..], sequenceNumber);
        BinaryPrimitives.WriteUInt16BigEndian(destination[18..], ackNumber);
    }

    /// <summary>Rewrites the fields a retransmission refreshes, leaving type, ids, sequence number and payload as they were.</summary>
    public static void RefreshHeader(Span<byte> packet, uint timestampMicros, uint timestampDifferenceMicros, uint windowSize, ushort ackNumber)
    {
        BinaryPrimitives.WriteUInt32BigEndian(packet[4..], timestampMicros);
        BinaryPrimitives.WriteUInt32BigEndian(packet[8..], timestampDifferenceMicros);
        BinaryPrimitives.WriteUInt32BigEndian(packet[12..], windowSize);
        BinaryPrimitives.WriteUInt16BigEndian(packet[18..], ackNumber);
    }
}
