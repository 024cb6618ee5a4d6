using System.Buffers;
using System.Buffers.Binary;
using Shoal.Metainfo;
using Shoal.Wire;

namespace Shoal.Tests.Wire;

/// <summary>BEP 52's hash request (21), hashes (22) and hash reject (23) on the wire, and the v2 reserved bit.</summary>
public sealed class HashMessageTests
{
    private static readonly Sha256Hash Root = Sha256Hash.Compute("a file"u8);

    private static ReadOnlySequence<byte> Frame(MessageId id, byte[] body)
    {
        var writer = new ArrayBufferWriter<byte>();
        PeerMessageWriter.WriteHashMessage(writer, id, body);
        return new ReadOnlySequence<byte>(writer.WrittenMemory);
    }

    [Theory]
    [InlineData(MessageId.HashRequest, 0)]
    [InlineData(MessageId.HashReject, 0)]
    [InlineData(MessageId.Hashes, 2)]
    [InlineData(MessageId.Hashes, 519)]
    public void Each_hash_message_round_trips_through_the_reader(MessageId id, int hashCount)
    {
        byte[] hashes = new byte[hashCount * 32];
        new Random(3).NextBytes(hashes);
        var message = new HashMessage(id, new HashRequest(Root, 2, 512, 512, 9), hashes);
        ReadOnlySequence<byte> buffer = Frame(id, message.ToBody());
        Assert.Equal(4 + 1 + 48 + hashes.Length, buffer.Length);

        var reader = new PeerMessageReader(10);
        Assert.True(reader.TryRead(ref buffer, out PeerMessage read));
        Assert.Equal(id, read.Id);
        HashMessage parsed = HashMessage.Parse(read.Id, read.Payload);
        Assert.Equal(message.Request, parsed.Request);
        Assert.Equal(hashes, parsed.Hashes);
        Assert.True(buffer.IsEmpty);
    }

    [Theory]
    [InlineData(MessageId.HashRequest, 47)]
    [InlineData(MessageId.HashRequest, 49)]
    [InlineData(MessageId.HashReject, 80)]
    [InlineData(MessageId.Hashes, 48)]      // no hashes at all
    [InlineData(MessageId.Hashes, 48 + 33)] // not whole hashes
    public void A_malformed_length_is_a_protocol_error(MessageId id, int bodyLength)
    {
        ReadOnlySequence<byte> buffer = Frame(id, new byte[bodyLength]);
        var reader = new PeerMessageReader(10);
        Assert.Throws<WireProtocolException>(() => reader.TryRead(ref buffer, out _));
    }

    [Fact]
    public void A_field_above_int_max_is_a_protocol_error()
    {
        byte[] body = new HashMessage(MessageId.HashRequest, new HashRequest(Root, 0, 0, 2, 0), []).ToBody();
        BinaryPrimitives.WriteUInt32BigEndian(body.AsSpan(40), 0x8000_0000); // length
        ReadOnlySequence<byte> buffer = Frame(MessageId.HashRequest, body);
        Assert.Throws<WireProtocolException>(() => new PeerMessageReader(10).TryRead(ref buffer, out _));
    }

    [Fact]
    public void A_hashes_message_larger_than_the_limit_is_refused_before_its_body_arrives()
    {
        // Only the length prefix and the id: the reader must not wait for (or buffer) 64 MiB.
        byte[] header = new byte[5];
        BinaryPrimitives.WriteInt32BigEndian(header, 1 + 48 + ((HashMessage.MaxHashes + 1) * 32));
        header[4] = (byte)MessageId.Hashes;
        var buffer = new ReadOnlySequence<byte>(header);
        Assert.Throws<WireProtocolException>(() => new PeerMessageReader(10).TryRead(ref buffer, out _));
    }

    [Fact]
    public void The_v2_bit_is_the_fourth_most_significant_bit_of_the_last_reserved_byte()
    {
        Span<byte> bytes = stackalloc byte[8];
        ReservedBits.Create(extension: false, fast: false, dht: false, v2: true).CopyTo(bytes);
        Assert.Equal(new byte[] { 0, 0, 0, 0, 0, 0, 0, 0x10 }, bytes.ToArray());
        Assert.True(new ReservedBits(0x10).SupportsV2);
        Assert.False(ReservedBits.Create(extension: true, fast: true, dht: true).SupportsV2);
    }
}
