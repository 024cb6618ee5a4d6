using System.Buffers;
using System.Buffers.Binary;

namespace Shoal.Wire;

/// <summary>
/// Writes peer messages into an <see cref="IBufferWriter{T}"/> (typically a <c>PipeWriter</c>) without
/// allocating. Arguments are checked against the same limits <see cref="PeerMessageReader"/> enforces, so
/// Shoal never sends what it would itself reject; a bad argument is a bug and throws
/// <see cref="ArgumentOutOfRangeException"/>. Flushing is the caller's job.
/// </summary>
public static class PeerMessageWriter
{
    /// <summary>Length of a Piece message header (prefix, id, index, begin) before the block.</summary>
    public const int PieceHeaderLength = 13;

    /// <summary>Writes a keep-alive (a zero length prefix).</summary>
    public static void WriteKeepAlive(IBufferWriter<byte> writer)
    {
        Span<byte> span = writer.GetSpan(4);
        BinaryPrimitives.WriteUInt32BigEndian(span, 0);
        writer.Advance(4);
    }

    /// <summary>Writes Choke.</summary>
    public static void WriteChoke(IBufferWriter<byte> writer) => WriteBare(writer, MessageId.Choke);

    /// <summary>Writes Unchoke.</summary>
    public static void WriteUnchoke(IBufferWriter<byte> writer) => WriteBare(writer, MessageId.Unchoke);

    /// <summary>Writes Interested.</summary>
    public static void WriteInterested(IBufferWriter<byte> writer) => WriteBare(writer, MessageId.Interested);

    /// <summary>Writes NotInterested.</summary>
    public static void WriteNotInterested(IBufferWriter<byte> writer) => WriteBare(writer, MessageId.NotInterested);

    /// <summary>Writes HaveAll (BEP 6).</summary>
    public static void WriteHaveAll(IBufferWriter<byte> writer) => WriteBare(writer, MessageId.HaveAll);

    /// <summary>Writes HaveNone (BEP 6).</summary>
    public static void WriteHaveNone(IBufferWriter<byte> writer) => WriteBare(writer, MessageId.HaveNone);

    /// <summary>Writes Have.</summary>
    public static void WriteHave(IBufferWriter<byte> writer, int piece) => WriteIndexed(writer, MessageId.Have, piece);

    /// <summary>Writes Suggest (BEP 6).</summary>
    public static void WriteSuggest(IBufferWriter<byte> writer, int piece) => WriteIndexed(writer, MessageId.Suggest, piece);

    /// <summary>Writes AllowedFast (BEP 6).</summary>
    public static void WriteAllowedFast(IBufferWriter<byte> writer, int piece) => WriteIndexed(writer, MessageId.AllowedFast, piece);

    /// <summary>Writes Request.</summary>
    public static void WriteRequest(IBufferWriter<byte> writer, int piece, int begin, int length) =>
        WriteBlockRef(writer, MessageId.Request, piece, begin, length);

    /// <summary>Writes Cancel.</summary>
    public static void WriteCancel(IBufferWriter<byte> writer, int piece, int begin, int length) =>
        WriteBlockRef(writer, MessageId.Cancel, piece, begin, length);

    /// <summary>Writes Reject (BEP 6).</summary>
    public static void WriteReject(IBufferWriter<byte> writer, int piece, int begin, int length) =>
        WriteBlockRef(writer, MessageId.Reject, piece, begin, length);

    /// <summary>Writes Bitfield with the given wire-format bits (see <see cref="BitField.Bytes"/>).</summary>
    public static void WriteBitfield(IBufferWriter<byte> writer, ReadOnlySpan<byte> bits)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bits.Length, int.MaxValue - 1, nameof(bits));
        Span<byte> span = writer.GetSpan(5);
        BinaryPrimitives.WriteInt32BigEndian(span, bits.Length + 1);
        span[4] = (byte)MessageId.Bitfield;
        writer.Advance(5);
        writer.Write(bits);
    }

    /// <summary>Writes a whole Piece message: header and block.</summary>
    public static void WritePiece(IBufferWriter<byte> writer, int piece, int begin, ReadOnlySpan<byte> block)
    {
        WritePieceHeader(writer, piece, begin, block.Length);
        writer.Write(block);
    }

    /// <summary>
    /// Writes only the 13-byte Piece header; the caller must then write exactly
    /// <paramref name="blockLength"/> bytes (e.g. read from disk straight into <c>writer.GetMemory()</c>).
    /// </summary>
    public static void WritePieceHeader(IBufferWriter<byte> writer, int piece, int begin, int blockLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(piece);
        ArgumentOutOfRangeException.ThrowIfNegative(begin);
        ArgumentOutOfRangeException.ThrowIfLessThan(blockLength, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(blockLength, PeerMessageReader.MaxBlockLength);
        Span<byte> span = writer.GetSpan(PieceHeaderLength);
        BinaryPrimitives.WriteInt32BigEndian(span, 9 + blockLength);
        span[4] = (byte)MessageId.Piece;
        BinaryPrimitives.WriteInt32BigEndian(span[5..], piece);
        BinaryPrimitives.WriteInt32BigEndian(span[9..], begin);
        writer.Advance(PieceHeaderLength);
    }

    /// <summary>Writes Port (BEP 5).</summary>
    public static void WritePort(IBufferWriter<byte> writer, ushort port)
    {
        Span<byte> span = writer.GetSpan(7);
        BinaryPrimitives.WriteInt32BigEndian(span, 3);
        span[4] = (byte)MessageId.Port;
        BinaryPrimitives.WriteUInt16BigEndian(span[5..], port);
        writer.Advance(7);
    }

    /// <summary>Writes an Extended message (BEP 10): extension id then its bencoded payload.</summary>
    public static void WriteExtended(IBufferWriter<byte> writer, byte extendedId, ReadOnlySpan<byte> payload)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(payload.Length, PeerMessageReader.MaxMessageLength - 2, nameof(payload));
        Span<byte> span = writer.GetSpan(6);
        BinaryPrimitives.WriteInt32BigEndian(span, payload.Length + 2);
        span[4] = (byte)MessageId.Extended;
        span[5] = extendedId;
        writer.Advance(6);
        writer.Write(payload);
    }

    /// <summary>Writes a BEP 52 hash request, hashes or hash reject message.</summary>
    public static void WriteHashMessage(IBufferWriter<byte> writer, HashMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        WriteHashMessage(writer, message.Id, message.ToBody());
    }

    /// <summary>Writes a BEP 52 hash message from its encoded body (<see cref="HashMessage.ToBody"/>).</summary>
    public static void WriteHashMessage(IBufferWriter<byte> writer, MessageId id, ReadOnlySpan<byte> body)
    {
        if (!HashMessage.IsHashMessage(id)) throw new ArgumentOutOfRangeException(nameof(id), $"{id} is not a hash message");
        Span<byte> span = writer.GetSpan(5);
        BinaryPrimitives.WriteInt32BigEndian(span, body.Length + 1);
        span[4] = (byte)id;
        writer.Advance(5);
        writer.Write(body);
    }

    private static void WriteBare(IBufferWriter<byte> writer, MessageId id)
    {
        Span<byte> span = writer.GetSpan(5);
        BinaryPrimitives.WriteInt32BigEndian(span, 1);
        span[4] = (byte)id;
        writer.Advance(5);
    }

    private static void WriteIndexed(IBufferWriter<byte> writer, MessageId id, int piece)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(piece);
        Span<byte> span = writer.GetSpan(9);
        BinaryPrimitives.WriteInt32BigEndian(span, 5);
        span[4] = (byte)id;
        BinaryPrimitives.WriteInt32BigEndian(span[5..], piece);
        writer.Advance(9);
    }

    private static void WriteBlockRef(IBufferWriter<byte> writer, MessageId id, int piece, int begin, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(piece);
        ArgumentOutOfRangeException.ThrowIfNegative(begin);
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, PeerMessageReader.MaxBlockLength);
        Span<byte> span = writer.GetSpan(17);
        BinaryPrimitives.WriteInt32BigEndian(span, 13);
        span[4] = (byte)id;
        BinaryPrimitives.WriteInt32BigEndian(span[5..], piece);
        BinaryPrimitives.WriteInt32BigEndian(span[9..], begin);
        BinaryPrimitives.WriteInt32BigEndian(span[13..], length);
        writer.Advance(17);
    }
}
