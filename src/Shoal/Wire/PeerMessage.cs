using System.Buffers;

namespace Shoal.Wire;

/// <summary>
/// One parsed peer message. Only the fields that belong to <see cref="Id"/> are meaningful, the others
/// are zero. <b><see cref="Payload"/> points into the reader's buffer and is only valid until that buffer
/// is advanced</b> (<c>PipeReader.AdvanceTo</c>); copy what must outlive it.
/// </summary>
public readonly struct PeerMessage
{
    /// <summary>The message kind; <see cref="MessageId.KeepAlive"/> for a zero-length frame.</summary>
    public MessageId Id { get; init; }

    /// <summary>Piece index for Have, Request, Piece, Cancel, Suggest, Reject and AllowedFast.</summary>
    public int Index { get; init; }

    /// <summary>Byte offset inside the piece for Request, Piece, Cancel and Reject.</summary>
    public int Begin { get; init; }

    /// <summary>Block length for Request, Cancel and Reject; for Piece the length of the block carried.</summary>
    public int Length { get; init; }

    /// <summary>DHT port for Port.</summary>
    public ushort Port { get; init; }

    /// <summary>Extension message id for Extended (0 is the BEP 10 extension handshake).</summary>
    public byte ExtendedId { get; init; }

    /// <summary>
    /// Bitfield bytes for Bitfield, the block for Piece, the bytes after the extension id for Extended;
    /// empty otherwise. Valid only until the reader's buffer is advanced.
    /// </summary>
    public ReadOnlySequence<byte> Payload { get; init; }

    /// <inheritdoc />
    public override string ToString() => Id switch
    {
        MessageId.Have or MessageId.Suggest or MessageId.AllowedFast => $"{Id}({Index})",
        MessageId.Request or MessageId.Cancel or MessageId.Reject or MessageId.Piece => $"{Id}({Index}, {Begin}, {Length})",
        MessageId.Port => $"Port({Port})",
        MessageId.Bitfield => $"Bitfield({Payload.Length} bytes)",
        MessageId.Extended => $"Extended({ExtendedId}, {Payload.Length} bytes)",
        _ => Id.ToString(),
    };
}
