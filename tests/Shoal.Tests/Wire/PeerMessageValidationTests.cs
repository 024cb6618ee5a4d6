using System.Buffers;
using System.Buffers.Binary;
using Shoal.Wire;

namespace Shoal.Tests.Wire;

public sealed class PeerMessageValidationTests
{
    private static byte[] Frame(uint length, byte id, params byte[] body)
    {
        var bytes = new byte[5 + body.Length];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, length);
        bytes[4] = id;
        body.CopyTo(bytes, 5);
        return bytes;
    }

    private static byte[] Be(params uint[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(i * 4), values[i]);
        return bytes;
    }

    private static bool Read(byte[] bytes, int pieceCount, out PeerMessage message)
    {
        var buffer = new ReadOnlySequence<byte>(bytes);
        return new PeerMessageReader(pieceCount).TryRead(ref buffer, out message);
    }

    private static void Rejects(byte[] bytes, int pieceCount = 100) =>
        Assert.Throws<WireProtocolException>(() => Read(bytes, pieceCount, out _));

    [Theory]
    [InlineData(0x7FFFFFFFu)]
    [InlineData(0xFFFFFFFFu)]
    [InlineData(2u * 1024 * 1024)]
    public void OversizedPrefixIsRejectedFromTheFourBytesAlone(uint length)
    {
        Rejects(Be(length));
    }

    [Fact]
    public void PrefixTooLongForItsIdIsRejectedBeforeTheBodyArrives()
    {
        Rejects(Frame(100, (byte)MessageId.Have));                 // Have is 5
        Rejects(Frame(9 + 200_000, (byte)MessageId.Piece));       // block over 128 KiB
        Rejects(Frame(1 + 1000, (byte)MessageId.Bitfield));       // 100 pieces need 13 bytes
    }

    [Theory]
    [InlineData(MessageId.Choke, 2)]
    [InlineData(MessageId.Unchoke, 5)]
    [InlineData(MessageId.Interested, 2)]
    [InlineData(MessageId.NotInterested, 3)]
    [InlineData(MessageId.HaveAll, 2)]
    [InlineData(MessageId.HaveNone, 9)]
    [InlineData(MessageId.Have, 4)]
    [InlineData(MessageId.Have, 6)]
    [InlineData(MessageId.Suggest, 1)]
    [InlineData(MessageId.AllowedFast, 9)]
    [InlineData(MessageId.Request, 12)]
    [InlineData(MessageId.Request, 14)]
    [InlineData(MessageId.Cancel, 1)]
    [InlineData(MessageId.Reject, 17)]
    [InlineData(MessageId.Port, 2)]
    [InlineData(MessageId.Port, 5)]
    [InlineData(MessageId.Piece, 9)]
    [InlineData(MessageId.Piece, 1)]
    [InlineData(MessageId.Extended, 1)]
    [InlineData(MessageId.Bitfield, 12)]
    [InlineData(MessageId.Bitfield, 15)]
    public void WrongFixedLengthIsRejected(MessageId id, int length)
    {
        Rejects(Frame((uint)length, (byte)id, new byte[Math.Max(0, length - 1)]));
    }

    [Fact]
    public void HaveAndPieceOutOfRangeAreRejectedWhenPieceCountIsKnown()
    {
        Rejects(Frame(5, (byte)MessageId.Have, Be(100)));
        Rejects(Frame(9 + 1, (byte)MessageId.Piece, [.. Be(100, 0), 1]));
        Assert.True(Read(Frame(5, (byte)MessageId.Have, Be(99)), 100, out var m));
        Assert.Equal(99, m.Index);
    }

    [Fact]
    public void RequestsAndHintsOutOfRangeArePassedOnForTheConnectionToRejectOrIgnore()
    {
        // libtorrent answers such a request with a reject and ignores such a hint; the reader only frames them.
        Assert.True(Read(Frame(5, (byte)MessageId.Suggest, Be(1000)), 100, out var m));
        Assert.Equal(1000, m.Index);
        Assert.True(Read(Frame(5, (byte)MessageId.AllowedFast, Be(uint.MaxValue)), 100, out m));
        Assert.Equal(-1, m.Index); // does not fit an int
        Assert.True(Read(Frame(13, (byte)MessageId.Request, Be(100, 0, 16384)), 100, out m));
        Assert.Equal((100, 0, 16384), (m.Index, m.Begin, m.Length));
    }

    [Fact]
    public void UnknownPieceCountSkipsIndexCheckButNotSignCheck()
    {
        Assert.True(Read(Frame(5, (byte)MessageId.Have, Be(123_456)), 0, out var m));
        Assert.Equal(123_456, m.Index);
        Rejects(Frame(5, (byte)MessageId.Have, Be(0x8000_0000)), pieceCount: 0);
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(131073u)]
    [InlineData(0xFFFFFFFFu)]
    public void OddRequestLengthsArePassedOn(uint length)
    {
        foreach (MessageId id in new[] { MessageId.Request, MessageId.Cancel, MessageId.Reject })
        {
            Assert.True(Read(Frame(13, (byte)id, Be(1, 0, length)), 100, out var m));
            Assert.Equal(length > int.MaxValue ? -1 : (int)length, m.Length);
        }
    }

    [Fact]
    public void OverflowingBeginIsPassedOnForRequestsAndRejectedForPieces()
    {
        Assert.True(Read(Frame(13, (byte)MessageId.Request, Be(1, 0x8000_0000, 16384)), 100, out var m));
        Assert.Equal(-1, m.Begin);
        Assert.True(Read(Frame(13, (byte)MessageId.Request, Be(1, int.MaxValue - 10, 16384)), 100, out m));
        Assert.Equal(int.MaxValue - 10, m.Begin);
        Rejects(Frame(10, (byte)MessageId.Piece, [.. Be(1, 0xFFFF_FFF0), 7]));
    }

    [Fact]
    public void BitfieldMustHaveExactLengthButSpareBitsAreTheCallersToClear()
    {
        // 10 pieces: 2 bytes, the low 6 bits of byte 1 are spare (libtorrent ignores them; so does Shoal).
        Assert.True(Read(Frame(3, (byte)MessageId.Bitfield, 0xFF, 0xC0), 10, out var m));
        Assert.Equal(new byte[] { 0xFF, 0xC0 }, m.Payload.ToArray());
        Assert.True(Read(Frame(3, (byte)MessageId.Bitfield, 0xFF, 0xC1), 10, out m));
        Assert.Equal(new byte[] { 0xFF, 0xC1 }, m.Payload.ToArray());
        Rejects(Frame(4, (byte)MessageId.Bitfield, 0xFF, 0xC0, 0), pieceCount: 10);
        // Unknown piece count (magnet link): any bounded length is accepted.
        Assert.True(Read(Frame(4, (byte)MessageId.Bitfield, 1, 2, 3), 0, out m));
        Assert.Equal(3, m.Payload.Length);
    }

    [Fact]
    public void UnknownIdsAreSkippedAndCounted() // 21-23 are BEP 52 hash messages now: 24 is still unknown
    {
        byte[] stream = [.. Frame(3, 10, 1, 2), .. Frame(1, 200), .. Frame(5, 24, 0, 0, 0, 0), .. Frame(1, (byte)MessageId.Unchoke)];
        var buffer = new ReadOnlySequence<byte>(stream);
        var reader = new PeerMessageReader(10);
        Assert.True(reader.TryRead(ref buffer, out var m));
        Assert.Equal(MessageId.Unchoke, m.Id);
        Assert.Equal(3, reader.SkippedMessages);
        Assert.True(buffer.IsEmpty);
    }

    [Fact]
    public void UnknownIdsAreStillBounded()
    {
        Rejects(Frame(PeerMessageReader.MaxMessageLength + 1, 42));
    }

    [Fact]
    public void ExtendedIsBoundedButMayBeLarge()
    {
        byte[] body = new byte[PeerMessageReader.MaxMessageLength - 1];
        body[0] = 2;
        Assert.True(Read(Frame(PeerMessageReader.MaxMessageLength, (byte)MessageId.Extended, body), 0, out var m));
        Assert.Equal(2, m.ExtendedId);
        Assert.Equal(body.Length - 1, m.Payload.Length);
        Rejects(Frame(PeerMessageReader.MaxMessageLength + 1, (byte)MessageId.Extended));
    }

    [Fact]
    public void PieceCountCanBeSetLater()
    {
        var reader = new PeerMessageReader();
        var buffer = new ReadOnlySequence<byte>(Frame(5, (byte)MessageId.Have, Be(50)));
        Assert.True(reader.TryRead(ref buffer, out _));
        reader.PieceCount = 10;
        buffer = new ReadOnlySequence<byte>(Frame(5, (byte)MessageId.Have, Be(50)));
        Assert.Throws<WireProtocolException>(() => reader.TryRead(ref buffer, out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => reader.PieceCount = -1);
    }

    [Fact]
    public void WriterRefusesWhatTheReaderWouldReject()
    {
        var w = new ArrayBufferWriter<byte>();
        Assert.Throws<ArgumentOutOfRangeException>(() => PeerMessageWriter.WriteRequest(w, 0, 0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => PeerMessageWriter.WriteRequest(w, 0, 0, 131073));
        Assert.Throws<ArgumentOutOfRangeException>(() => PeerMessageWriter.WriteHave(w, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => PeerMessageWriter.WritePieceHeader(w, 0, -1, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => PeerMessageWriter.WritePiece(w, 0, 0, new byte[131073]));
        Assert.Equal(0, w.WrittenCount);
    }

    [Fact]
    public void WireBytesMatchBep3()
    {
        var w = new ArrayBufferWriter<byte>();
        PeerMessageWriter.WriteRequest(w, 1, 0x4000, 0x4000);
        Assert.Equal(new byte[] { 0, 0, 0, 13, 6, 0, 0, 0, 1, 0, 0, 0x40, 0, 0, 0, 0x40, 0 }, w.WrittenSpan.ToArray());
        w.ResetWrittenCount();
        PeerMessageWriter.WritePort(w, 0x1AE1);
        Assert.Equal(new byte[] { 0, 0, 0, 3, 9, 0x1A, 0xE1 }, w.WrittenSpan.ToArray());
        w.ResetWrittenCount();
        PeerMessageWriter.WriteHaveAll(w);
        Assert.Equal(new byte[] { 0, 0, 0, 1, 0x0E }, w.WrittenSpan.ToArray());
    }
}
