using System.Buffers;
using Shoal.Bencoding;

namespace Shoal.Discovery;

/// <summary>
/// A BEP 9 ut_metadata message: a bencoded dictionary (msg_type, piece, and total_size for data), followed
/// for <see cref="MetadataMessageType.Data"/> by the raw bytes of the piece.
/// </summary>
/// <param name="Type">The message type (<see cref="MetadataMessageType.Unknown"/> for one to ignore).</param>
/// <param name="Piece">The 16 KiB piece index.</param>
/// <param name="TotalSize">For data: the size of the whole info dictionary; 0 otherwise.</param>
/// <param name="Data">For data: the piece's bytes (a slice of the parsed payload, not a copy).</param>
public sealed record MetadataMessage(MetadataMessageType Type, int Piece, int TotalSize, ReadOnlyMemory<byte> Data)
{
    /// <summary>Metadata is exchanged in pieces of 16 KiB (the last may be shorter).</summary>
    public const int BlockSize = 16 * 1024;

    /// <summary>Largest info dictionary Shoal fetches or serves: 16 MiB.</summary>
    public const int MaxMetadataSize = 16 * 1024 * 1024;

    /// <summary>Most pieces a metadata transfer can have (<see cref="MaxMetadataSize"/> / <see cref="BlockSize"/>).</summary>
    public const int MaxPieces = MaxMetadataSize / BlockSize;

    /// <summary>Largest payload accepted: one block plus room for the dictionary.</summary>
    public const int MaxPayloadLength = BlockSize + 1024;

    private static readonly BencodeLimits Limits = new() { MaxDepth = 8, MaxItems = 256, MaxInputLength = MaxPayloadLength };

    /// <summary>A request for <paramref name="piece"/>.</summary>
    public static MetadataMessage Request(int piece) => new(MetadataMessageType.Request, piece, 0, ReadOnlyMemory<byte>.Empty);

    /// <summary>A reject of <paramref name="piece"/>.</summary>
    public static MetadataMessage Reject(int piece) => new(MetadataMessageType.Reject, piece, 0, ReadOnlyMemory<byte>.Empty);

    /// <summary>
    /// Parses a ut_metadata payload (the bytes after the extended id). Unknown keys are ignored; so are bytes
    /// after the dictionary of a request or reject.
    /// </summary>
    /// <exception cref="ExtensionMessageException">Malformed bencode, a missing or out-of-range field, a data
    /// block over 16 KiB, or a payload over <see cref="MaxPayloadLength"/>.</exception>
    public static MetadataMessage Parse(ReadOnlyMemory<byte> payload)
    {
        if (payload.Length > MaxPayloadLength)
            throw new ExtensionMessageException($"ut_metadata message is {payload.Length} bytes, more than the limit of {MaxPayloadLength}");
        BValue root;
        int consumed;
        try
        {
            root = Bencode.DecodePrefix(payload, out consumed, Limits);
        }
        catch (BencodeException e)
        {
            throw new ExtensionMessageException("malformed ut_metadata message: " + e.Message, e);
        }
        if (root is not BDictionary dict)
            throw new ExtensionMessageException($"ut_metadata message must start with a dictionary, not {BDictionary.KindOf(root)}");

        long msgType = RequiredInteger(dict, "msg_type");
        long piece = RequiredInteger(dict, "piece");
        if (piece < 0 || piece >= MaxPieces)
            throw new ExtensionMessageException($"ut_metadata piece {piece} is out of range 0..{MaxPieces - 1}");
        MetadataMessageType type = msgType switch
        {
            0 => MetadataMessageType.Request,
            1 => MetadataMessageType.Data,
            2 => MetadataMessageType.Reject,
            _ => MetadataMessageType.Unknown,
        };
        if (type != MetadataMessageType.Data) return new MetadataMessage(type, (int)piece, 0, ReadOnlyMemory<byte>.Empty);

        long totalSize = RequiredInteger(dict, "total_size");
        if (totalSize <= 0 || totalSize > MaxMetadataSize)
            throw new ExtensionMessageException($"ut_metadata total_size {totalSize} is out of range 1..{MaxMetadataSize}");
        ReadOnlyMemory<byte> data = payload[consumed..];
        if (data.Length > BlockSize)
            throw new ExtensionMessageException($"ut_metadata data block is {data.Length} bytes, more than {BlockSize}");
        return new MetadataMessage(type, (int)piece, (int)totalSize, data);
    }

    /// <summary>Encodes the payload: the dictionary, then for data the block.</summary>
    /// <exception cref="InvalidOperationException">An unknown type, a negative piece, or a data block over 16 KiB.</exception>
    public byte[] Encode() => Type switch
    {
        MetadataMessageType.Request or MetadataMessageType.Reject => EncodeControl(Type, Piece),
        MetadataMessageType.Data => EncodeData(Piece, TotalSize, Data.Span),
        _ => throw new InvalidOperationException($"cannot encode a ut_metadata message of type {Type}"),
    };

    /// <summary>Encodes a data message for <paramref name="piece"/> carrying <paramref name="block"/>.</summary>
    public static byte[] EncodeData(int piece, int totalSize, ReadOnlySpan<byte> block)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(piece);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(totalSize);
        if (block.Length > BlockSize) throw new InvalidOperationException($"a ut_metadata block is at most {BlockSize} bytes");
        var output = new ArrayBufferWriter<byte>(64 + block.Length);
        var writer = new BencodeWriter(output);
        writer.WriteDictionaryStart();
        writer.WriteString("msg_type"u8);
        writer.WriteInteger((int)MetadataMessageType.Data);
        writer.WriteString("piece"u8);
        writer.WriteInteger(piece);
        writer.WriteString("total_size"u8);
        writer.WriteInteger(totalSize);
        writer.WriteEnd();
        output.Write(block);
        return output.WrittenSpan.ToArray();
    }

    private static byte[] EncodeControl(MetadataMessageType type, int piece)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(piece);
        var output = new ArrayBufferWriter<byte>(48);
        var writer = new BencodeWriter(output);
        writer.WriteDictionaryStart();
        writer.WriteString("msg_type"u8);
        writer.WriteInteger((int)type);
        writer.WriteString("piece"u8);
        writer.WriteInteger(piece);
        writer.WriteEnd();
        return output.WrittenSpan.ToArray();
    }

    private static long RequiredInteger(BDictionary dict, string key)
    {
        if (!dict.TryGetValue(key, out BValue? value))
            throw new ExtensionMessageException($"ut_metadata message has no '{key}'");
        return value is BInteger i
            ? i.Value
            : throw new ExtensionMessageException($"ut_metadata '{key}' must be an integer, not {BDictionary.KindOf(value)}");
    }
}
