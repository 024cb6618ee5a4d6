namespace Shoal.Discovery;

/// <summary>
/// Serves a torrent's info dictionary over BEP 9: answers a ut_metadata request with the data message for
/// that piece, or a reject when the piece is out of range.
/// </summary>
/// <remarks>
/// Each piece's answer is encoded once and the same array returned every time: a peer asking for piece 0 ten
/// thousand times gets ten thousand references to one array, not ten thousand 16 KiB copies. The cache holds at most
/// the info dictionary's size again. Not thread-safe: one instance per torrent, used by its actor.
/// </remarks>
public sealed class MetadataServer
{
    private readonly ReadOnlyMemory<byte> _infoDictionary;
    private readonly byte[]?[] _answers;

    /// <summary>Serves <paramref name="infoDictionary"/> (the exact bencoded bytes whose hash is the info-hash).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Empty or over 16 MiB.</exception>
    public MetadataServer(ReadOnlyMemory<byte> infoDictionary)
    {
        if (infoDictionary.IsEmpty || infoDictionary.Length > MetadataMessage.MaxMetadataSize)
            throw new ArgumentOutOfRangeException(nameof(infoDictionary), $"metadata must be 1..{MetadataMessage.MaxMetadataSize} bytes");
        _infoDictionary = infoDictionary;
        PieceCount = (infoDictionary.Length + MetadataMessage.BlockSize - 1) / MetadataMessage.BlockSize;
        _answers = new byte[PieceCount][];
    }

    /// <summary>The metadata size to announce as "metadata_size" in the extension handshake.</summary>
    public int Size => _infoDictionary.Length;

    /// <summary>Number of 16 KiB pieces.</summary>
    public int PieceCount { get; }

    /// <summary>
    /// The encoded answer to a request for <paramref name="piece"/>: a data message, or a reject when out of range.
    /// Data answers are shared between calls: the caller must not modify the array.
    /// </summary>
    public byte[] Respond(int piece)
    {
        if (piece < 0 || piece >= PieceCount) return MetadataMessage.Reject(Math.Max(piece, 0)).Encode();
        return _answers[piece] ??= Encode(piece);
    }

    private byte[] Encode(int piece)
    {
        int offset = piece * MetadataMessage.BlockSize;
        int length = Math.Min(MetadataMessage.BlockSize, _infoDictionary.Length - offset);
        return MetadataMessage.EncodeData(piece, _infoDictionary.Length, _infoDictionary.Span.Slice(offset, length));
    }
}
