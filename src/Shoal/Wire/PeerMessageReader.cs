using System.Buffers;
using System.Buffers.Binary;
using Shoal.Metainfo;

namespace Shoal.Wire;

/// <summary>
/// Splits a byte stream into peer messages (after the handshake) and validates them, without allocating.
/// <para>
/// Limits (the 4-byte length prefix counts the id byte and the payload): fixed-size messages must have
/// exactly their size; Piece carries 1..<see cref="MaxBlockLength"/> bytes for a piece index in range; Have names
/// a piece in range; Bitfield is exactly <c>ceil(PieceCount / 8)</c> bytes when the piece count is known (its
/// spare bits are the caller's to clear), else at most <see cref="MaxMessageLength"/>; Extended and unknown ids
/// are at most <see cref="MaxMessageLength"/>. A prefix above every limit is rejected as soon as its 4 bytes
/// arrive, and a prefix too long for its id as soon as the id byte arrives, so a hostile peer can never make the
/// caller buffer more than one bounded frame.
/// </para>
/// <para>
/// What a well-framed message <i>asks</i> is not the parser's to judge: Request, Cancel and Reject with an index,
/// offset or length no torrent has, and Suggest or Allowed Fast for a piece out of range, are passed on (a field
/// beyond <see cref="int.MaxValue"/> as -1) for the connection to reject or ignore, as libtorrent does; closing
/// over them buys no safety.
/// </para>
/// <para>
/// Unknown message ids (ids from extensions we did not negotiate) are
/// skipped, as BEP 3 allows, and counted in <see cref="SkippedMessages"/>: no crash, no disconnect. Whether
/// a known message is allowed in the connection's state (a fast-extension message without the fast bit,
/// a bitfield after the first message) is the connection's decision, not the parser's.
/// </para>
/// Not thread-safe: one reader per connection, used by its receive loop.
/// </summary>
public sealed class PeerMessageReader
{
    /// <summary>Largest block a Piece may carry and a Request may ask for (128 KiB).</summary>
    public const int MaxBlockLength = 128 * 1024;

    /// <summary>Largest length prefix for Extended, unknown ids and (piece count unknown) Bitfield: 1 MiB.</summary>
    public const int MaxMessageLength = 1024 * 1024;

    private const int PrefixLength = 4;
    private int _pieceCount;

    /// <summary>Creates a reader; <paramref name="pieceCount"/> 0 means not known yet (magnet link).</summary>
    public PeerMessageReader(int pieceCount = 0) => PieceCount = pieceCount;

    /// <summary>
    /// Number of pieces in the torrent, 0 while unknown. When known, indices are checked against it and a
    /// Bitfield must have exactly the matching length.
    /// </summary>
    public int PieceCount
    {
        get => _pieceCount;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _pieceCount = value;
        }
    }

    /// <summary>Number of frames with unknown ids that were skipped.</summary>
    public long SkippedMessages { get; private set; }

    /// <summary>Largest length prefix any message may have with the current piece count.</summary>
    public long MaxFrameLength => Math.Max(MaxMessageLength, BitfieldFrameLength);

    private long BitfieldFrameLength => _pieceCount == 0 ? MaxMessageLength : 1L + ((_pieceCount + 7L) / 8);

    /// <summary>
    /// Reads one message from the start of <paramref name="buffer"/>. Returns false when a whole frame is
    /// not there yet (leave the buffer as is and read more); on success slices <paramref name="buffer"/>
    /// past the frame. The message's payload is a slice of the original buffer.
    /// </summary>
    /// <exception cref="WireProtocolException">The frame is malformed or breaks a limit.</exception>
    public bool TryRead(ref ReadOnlySequence<byte> buffer, out PeerMessage message)
    {
        Span<byte> scratch = stackalloc byte[PrefixLength + 1];
        while (true)
        {
            message = default;
            if (buffer.Length < PrefixLength) return false;

            ReadOnlySpan<byte> head = Peek(buffer, scratch, (int)Math.Min(buffer.Length, PrefixLength + 1));
            uint length = BinaryPrimitives.ReadUInt32BigEndian(head);
            if (length > MaxFrameLength)
                throw new WireProtocolException($"message length {length} exceeds the limit of {MaxFrameLength}");

            if (length == 0)
            {
                buffer = buffer.Slice(PrefixLength);
                message = new PeerMessage { Id = MessageId.KeepAlive };
                return true;
            }

            if (head.Length <= PrefixLength) return false;
            byte id = head[PrefixLength];
            bool known = CheckLength(id, length);
            if (buffer.Length - PrefixLength < length) return false;

            ReadOnlySequence<byte> body = buffer.Slice(PrefixLength + 1, length - 1);
            if (!known)
            {
                buffer = buffer.Slice(body.End);
                SkippedMessages++;
                continue;
            }

            message = Parse((MessageId)id, body);
            buffer = buffer.Slice(body.End);
            return true;
        }
    }

    /// <summary>Checks the length prefix against the id; returns false for an unknown id.</summary>
    private bool CheckLength(byte id, uint length)
    {
        long min, max;
        switch ((MessageId)id)
        {
            case MessageId.Choke or MessageId.Unchoke or MessageId.Interested or MessageId.NotInterested
                or MessageId.HaveAll or MessageId.HaveNone:
                min = max = 1;
                break;
            case MessageId.Have or MessageId.Suggest or MessageId.AllowedFast:
                min = max = 5;
                break;
            case MessageId.Request or MessageId.Cancel or MessageId.Reject:
                min = max = 13;
                break;
            case MessageId.Port:
                min = max = 3;
                break;
            case MessageId.Piece:
                min = 10;
                max = 9 + MaxBlockLength;
                break;
            case MessageId.Bitfield:
                max = BitfieldFrameLength;
                min = _pieceCount == 0 ? 1 : max;
                break;
            case MessageId.Extended:
                min = 2;
                max = MaxMessageLength;
                break;
            case MessageId.HashRequest or MessageId.HashReject:
                min = max = 1 + HashMessage.HeaderLength;
                break;
            case MessageId.Hashes:
                min = 1 + HashMessage.HeaderLength + (2 * Sha256Hash.Length);
                max = 1 + HashMessage.HeaderLength + ((long)HashMessage.MaxHashes * Sha256Hash.Length);
                break;
            default:
                if (length > MaxMessageLength)
                    throw new WireProtocolException($"unknown message id {id} with length {length} exceeds the limit of {MaxMessageLength}");
                return false;
        }

        if (length < min || length > max)
        {
            throw new WireProtocolException(min == max
                ? $"{(MessageId)id} message must have length {min}, got {length}"
                : $"{(MessageId)id} message length {length} is outside {min}..{max}");
        }

        return true;
    }

    private PeerMessage Parse(MessageId id, ReadOnlySequence<byte> body)
    {
        Span<byte> scratch = stackalloc byte[12];
        switch (id)
        {
            case MessageId.Have:
            {
                ReadOnlySpan<byte> f = Peek(body, scratch, 4);
                return new PeerMessage { Id = id, Index = ReadIndex(id, f) };
            }
            case MessageId.Suggest or MessageId.AllowedFast:
                return new PeerMessage { Id = id, Index = ReadField(Peek(body, scratch, 4)) };
            case MessageId.Request or MessageId.Cancel or MessageId.Reject:
            {
                ReadOnlySpan<byte> f = Peek(body, scratch, 12);
                return new PeerMessage { Id = id, Index = ReadField(f), Begin = ReadField(f[4..]), Length = ReadField(f[8..]) };
            }
            case MessageId.Piece:
            {
                ReadOnlySpan<byte> f = Peek(body, scratch, 8);
                int index = ReadIndex(id, f);
                int begin = ReadBegin(id, f[4..]);
                ReadOnlySequence<byte> block = body.Slice(8);
                CheckEnd(id, begin, (int)block.Length);
                return new PeerMessage { Id = id, Index = index, Begin = begin, Length = (int)block.Length, Payload = block };
            }
            case MessageId.Bitfield:
                return new PeerMessage { Id = id, Payload = body };
            case MessageId.Port:
                return new PeerMessage { Id = id, Port = BinaryPrimitives.ReadUInt16BigEndian(Peek(body, scratch, 2)) };
            case MessageId.Extended:
                return new PeerMessage { Id = id, ExtendedId = Peek(body, scratch, 1)[0], Payload = body.Slice(1) };
            case MessageId.HashRequest or MessageId.Hashes or MessageId.HashReject:
                HashMessage.Parse(id, body); // strict: a malformed hash message closes the connection here
                return new PeerMessage { Id = id, Payload = body };
            default:
                return new PeerMessage { Id = id };
        }
    }

    private int ReadIndex(MessageId id, ReadOnlySpan<byte> field)
    {
        uint index = BinaryPrimitives.ReadUInt32BigEndian(field);
        if (index > int.MaxValue || (_pieceCount != 0 && index >= (uint)_pieceCount))
            throw new WireProtocolException($"{id} piece index {index} is out of range (piece count {_pieceCount})");
        return (int)index;
    }

    /// <summary>A field the connection judges: its value, or -1 when it does not fit an int (no torrent has such a piece, offset or length).</summary>
    private static int ReadField(ReadOnlySpan<byte> field)
    {
        uint value = BinaryPrimitives.ReadUInt32BigEndian(field);
        return value > int.MaxValue ? -1 : (int)value;
    }

    private static int ReadBegin(MessageId id, ReadOnlySpan<byte> field)
    {
        uint begin = BinaryPrimitives.ReadUInt32BigEndian(field);
        if (begin > int.MaxValue) throw new WireProtocolException($"{id} offset {begin} is out of range");
        return (int)begin;
    }

    private static void CheckEnd(MessageId id, int begin, int length)
    {
        if ((long)begin + length > int.MaxValue)
            throw new WireProtocolException($"{id} block {begin}+{length} runs past any possible piece");
    }

    /// <summary>The first <paramref name="count"/> bytes, without copying when the first segment holds them.</summary>
    private static ReadOnlySpan<byte> Peek(in ReadOnlySequence<byte> sequence, Span<byte> scratch, int count)
    {
        ReadOnlySpan<byte> first = sequence.FirstSpan;
        if (first.Length >= count) return first[..count];
        Span<byte> target = scratch[..count];
        sequence.Slice(0, count).CopyTo(target);
        return target;
    }
}
