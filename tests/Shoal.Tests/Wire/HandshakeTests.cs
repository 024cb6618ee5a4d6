using System.Buffers;
using System.Text;
using Shoal.Metainfo;
using Shoal.Wire;

namespace Shoal.Tests.Wire;

public sealed class HandshakeTests
{
    private static readonly InfoHash Hash = new(Enumerable.Range(1, 20).Select(i => (byte)i).ToArray());
    private static readonly byte[] PeerId = Encoding.ASCII.GetBytes("-SH0100-abcdefghijkl");

    private static byte[] Sample(ReservedBits reserved)
    {
        var bytes = new byte[Handshake.Length];
        new Handshake(Hash, PeerId, reserved).WriteTo(bytes);
        return bytes;
    }

    [Fact]
    public void WritesTheBep3Layout()
    {
        byte[] bytes = Sample(ReservedBits.Create(extension: true, fast: true, dht: true));
        Assert.Equal(19, bytes[0]);
        Assert.Equal("BitTorrent protocol", Encoding.ASCII.GetString(bytes, 1, 19));
        Assert.Equal(new byte[] { 0, 0, 0, 0, 0, 0x10, 0, 0x05 }, bytes[20..28]);
        Assert.Equal(Hash.Span.ToArray(), bytes[28..48]);
        Assert.Equal(PeerId, bytes[48..68]);
    }

    [Fact]
    public void RoundTripsAndConsumesExactly68Bytes()
    {
        byte[] stream = [.. Sample(ReservedBits.Create(true, false, true)), 0, 0, 0, 1, 1];
        var buffer = new ReadOnlySequence<byte>(stream);
        Assert.True(Handshake.TryParse(ref buffer, out Handshake hs));
        Assert.Equal(Hash, hs.InfoHash);
        Assert.Equal(PeerId, hs.PeerId.ToArray());
        Assert.True(hs.Reserved.SupportsExtensionProtocol);
        Assert.False(hs.Reserved.SupportsFast);
        Assert.True(hs.Reserved.SupportsDht);
        Assert.Equal(5, buffer.Length);
    }

    [Fact]
    public void ParsesAcrossEverySplitAndWaitsForAll68()
    {
        byte[] bytes = Sample(default);
        for (int cut = 0; cut <= bytes.Length; cut++)
        {
            var buffer = SegmentedSequence.Create(bytes, cut);
            Assert.True(Handshake.TryParse(ref buffer, out var hs));
            Assert.Equal(Hash, hs.InfoHash);
        }

        for (int n = 0; n < bytes.Length; n++)
        {
            var partial = new ReadOnlySequence<byte>(bytes, 0, n);
            Assert.False(Handshake.TryParse(ref partial, out _));
            Assert.Equal(n, partial.Length);
        }
    }

    [Fact]
    public void GarbageIsRejectedFromTheFirstWrongByte()
    {
        var one = new ReadOnlySequence<byte>("G"u8.ToArray()); // "GET / HTTP/1.1"
        Assert.Throws<WireProtocolException>(() => Handshake.TryParse(ref one, out _));

        byte[] bytes = Sample(default);
        for (int i = 0; i < Handshake.ProtocolHeaderLength; i++)
        {
            byte[] bad = bytes[..(i + 1)];
            bad[i] ^= 0x20;
            var buffer = new ReadOnlySequence<byte>(bad);
            Assert.Throws<WireProtocolException>(() => Handshake.TryParse(ref buffer, out _));
        }
    }

    [Fact]
    public void ReservedBitsMapToTheirBytes()
    {
        Assert.Equal(new byte[] { 0, 0, 0, 0, 0, 0x10, 0, 0 }, ReservedBits.Create(true, false, false).ToArray());
        Assert.Equal(new byte[] { 0, 0, 0, 0, 0, 0, 0, 0x04 }, ReservedBits.Create(false, true, false).ToArray());
        Assert.Equal(new byte[] { 0, 0, 0, 0, 0, 0, 0, 0x01 }, ReservedBits.Create(false, false, true).ToArray());
        var other = new ReservedBits([0x80, 0, 0, 0, 0, 0x10, 0, 0x04]);
        Assert.True(other.SupportsExtensionProtocol);
        Assert.True(other.SupportsFast);
        Assert.False(other.SupportsDht);
        Assert.Equal(0x80, other[0]);
        Assert.Equal(0x8000_0000_0010_0004UL, other.Value);
    }

    [Fact]
    public void PeerIdMustBe20Bytes()
    {
        Assert.Throws<ArgumentException>(() => new Handshake(Hash, new byte[19], default));
    }
}
