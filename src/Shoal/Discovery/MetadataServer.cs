namespace Shoal.Discovery;

/// <summary>
/// Serves a torrent's info dictionary over BEP 9: answers a ut_metadata request with the data message for
/// that piece, or a reject when the piece is out of range.
/// </summary>
public sealed class MetadataServer
{
    private readonly ReadOnlyMemory<byte> _infoDictionary;

    /// <summary>Serves <paramref name="infoDictionary"/> (the exact bencoded bytes whose hash is the info-hash).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Empty or over 16 MiB.</exception>
    public MetadataServer(ReadOnlyMemory<byte> infoDictionary)
    {
        if (infoDictionary.IsEmpty || infoDictionary.Length > MetadataMessage.MaxMetadataSize)
            throw new ArgumentOutOfRangeException(nameof(infoDictionary), $"metadata must be 1..{MetadataMessage.MaxMetadataSize} bytes");
        _infoDictionary = infoDictionary;
        PieceCount = (infoDictionary.Length + MetadataMessage.BlockSize - 1) / MetadataMessage.BlockSize;
    }

    /// <summary>The metadata size to announce as "metadata_size" in the extension handshake.</summary>
    public int Size => _infoDictionary.Length;

    /// <summary>Number of 16 KiB pieces.</summary>
    public int PieceCount { get; }

    /// <summary>The encoded answer to a request for <paramref name="piece"/>: a data message, or a reject when out of range.</summary>
    public byte[] Respond(int piece)
    {
        if (piece < 0 || piece >= PieceCount) return MetadataMessage.Reject(Math.Max(piece, 0)).Encode();
        int offset = piece * MetadataMessage.BlockSize;
        int length = Math.Min(MetadataMessage.BlockSize, _infoDictionary.Length - offset);
        return MetadataMessage.EncodeData(piece, _infoDictionary.Length, _infoDictionary.Span.Slice(offset, length));
    }
}
