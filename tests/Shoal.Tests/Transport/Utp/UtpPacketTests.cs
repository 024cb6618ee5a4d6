using Shoal.Transport.Udp;
using Shoal.Transport.Utp;

namespace Shoal.Tests.Transport.Utp;

public sealed class UtpPacketTests
{
    private static byte[] Header(UtpPacketType type, byte extension = 0, int extra = 0, byte version = 1)
    {
        byte[] packet = new byte[UtpPacket.HeaderLength + extra];
        UtpPacket.WriteHeader(packet, type, extension, 0xBEEF, 0x01020304, 0x05060708, 0x090A0B0C, 0x1234, 0x5678);
        packet[0] = (byte)(((int)type << 4) | version);
        return packet;
    }

    [Fact]
    public void HeaderRoundTripsEveryField()
    {
        byte[] packet = [.. Header(UtpPacketType.Data), 1, 2, 3];
        Assert.True(UtpPacket.TryParse(packet, out UtpPacket parsed));
        Assert.Equal(UtpPacketType.Data, parsed.Type);
        Assert.Equal(0xBEEF, parsed.ConnectionId);
        Assert.Equal(0x01020304u, parsed.TimestampMicros);
        Assert.Equal(0x05060708u, parsed.TimestampDifferenceMicros);
        Assert.Equal(0x090A0B0Cu, parsed.WindowSize);
        Assert.Equal(0x1234, parsed.SequenceNumber);
        Assert.Equal(0x5678, parsed.AckNumber);
        Assert.Equal([1, 2, 3], parsed.Payload.ToArray());
        Assert.True(parsed.SelectiveAck.IsEmpty);
        // The wire layout of BEP 29: type in the high nibble, version in the low one, big-endian fields.
        Assert.Equal(0x01, packet[0]);
        Assert.Equal([0xBE, 0xEF], packet[2..4]);
        Assert.Equal([0x12, 0x34, 0x56, 0x78], packet[16..20]);
    }

    [Theory]
    [InlineData(UtpPacketType.Data, 0x01)]
    [InlineData(UtpPacketType.Fin, 0x11)]
    [InlineData(UtpPacketType.State, 0x21)]
    [InlineData(UtpPacketType.Reset, 0x31)]
    [InlineData(UtpPacketType.Syn, 0x41)]
    public void FirstByteIsTypeAndVersion(UtpPacketType type, byte first)
    {
        byte[] packet = Header(type, extra: type == UtpPacketType.Data ? 1 : 0);
        Assert.Equal(first, packet[0]);
        Assert.True(DatagramShapes.IsUtp(packet));
        Assert.True(UtpPacket.TryParse(packet, out UtpPacket parsed));
        Assert.Equal(type, parsed.Type);
    }

    [Fact]
    public void SelectiveAckAndPayloadAreSeparated()
    {
        byte[] packet = [.. Header(UtpPacketType.Data, extension: 1), 0, 4, 0b0000_0101, 0, 0, 0x80, 42, 43];
        Assert.True(UtpPacket.TryParse(packet, out UtpPacket parsed));
        Assert.Equal([0b0000_0101, 0, 0, 0x80], parsed.SelectiveAck.ToArray());
        Assert.Equal([42, 43], parsed.Payload.ToArray());
    }

    [Fact]
    public void UnknownExtensionsAreSkipped()
    {
        // libtorrent's close reason (3), then a selective ack, then data.
        byte[] packet = [.. Header(UtpPacketType.State, extension: 3), 1, 4, 0, 0, 0, 7, 0, 4, 1, 0, 0, 0];
        Assert.True(UtpPacket.TryParse(packet, out UtpPacket parsed));
        Assert.Equal([1, 0, 0, 0], parsed.SelectiveAck.ToArray());
        Assert.True(parsed.Payload.IsEmpty);
    }

    [Fact]
    public void ShortSelectiveAckFromLibtorrentIsAccepted()
    {
        // libtorrent sends as many mask bytes as its reorder buffer spans, not a multiple of 4.
        byte[] packet = [.. Header(UtpPacketType.State, extension: 1), 0, 1, 0b11];
        Assert.True(UtpPacket.TryParse(packet, out UtpPacket parsed));
        Assert.Equal([0b11], parsed.SelectiveAck.ToArray());
    }

    public static TheoryData<string, byte[]> Malformed() => new()
    {
        { "empty", [] },
        { "19 bytes", Header(UtpPacketType.State)[..19] },
        { "version 0", Header(UtpPacketType.State, version: 0) },
        { "version 2", Header(UtpPacketType.State, version: 2) },
        { "type 5", [.. Header(UtpPacketType.State).Select((b, i) => i == 0 ? (byte)0x51 : b)] },
        { "type 15", [.. Header(UtpPacketType.State).Select((b, i) => i == 0 ? (byte)0xF1 : b)] },
        { "data without payload", Header(UtpPacketType.Data) },
        { "extension header cut short", [.. Header(UtpPacketType.State, extension: 1), 0] },
        { "extension longer than the packet", [.. Header(UtpPacketType.State, extension: 1), 0, 8, 1, 2, 3] },
        { "empty selective ack", [.. Header(UtpPacketType.State, extension: 1), 0, 0] },
        { "two selective acks", [.. Header(UtpPacketType.State, extension: 1), 1, 4, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0] },
        { "chain of 13 extensions", [.. Header(UtpPacketType.State, extension: 9), .. Enumerable.Repeat(new byte[] { 9, 0 }, 12).SelectMany(x => x), 0, 0] },
        { "chain that never ends", [.. Header(UtpPacketType.State, extension: 9), 9, 0, 9, 0] },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void MalformedPacketsAreRefused(string what, byte[] datagram)
    {
        Assert.False(UtpPacket.TryParse(datagram, out _), what);
    }

    [Fact]
    public void KrpcAndTrackerPacketsDoNotLookLikeUtp()
    {
        Assert.False(UtpPacket.TryParse("d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe"u8, out _));
        byte[] udpTrackerConnect = [0, 0, 4, 0x17, 0x27, 0x10, 0x19, 0x80, 0, 0, 0, 0, 1, 2, 3, 4];
        Assert.False(UtpPacket.TryParse(udpTrackerConnect, out _));
    }

    [Fact]
    public void RandomBytesNeverThrow()
    {
        var random = new Random(29);
        byte[] buffer = new byte[200];
        for (int i = 0; i < 100_000; i++)
        {
            int length = random.Next(buffer.Length);
            random.NextBytes(buffer.AsSpan(0, length));
            if (random.Next(2) == 0 && length > 0) buffer[0] = (byte)((random.Next(5) << 4) | 1);
            if (UtpPacket.TryParse(buffer.AsSpan(0, length), out UtpPacket packet))
            {
                Assert.True(packet.Payload.Length + packet.SelectiveAck.Length + UtpPacket.HeaderLength <= length);
                Assert.True(packet.Type <= UtpPacketType.Syn);
            }
        }
    }

    [Fact]
    public void SequenceNumbersCompareAcrossTheWrap()
    {
        Assert.True(SequenceNumber.IsBefore(65535, 0));
        Assert.True(SequenceNumber.IsAfter(2, 65534));
        Assert.False(SequenceNumber.IsBefore(5, 5));
        Assert.Equal(3, SequenceNumber.Distance(65534, 1));
    }
}
