using System.Buffers;
using System.Buffers.Binary;
using Shoal.Metainfo;

namespace Shoal.Wire;

/// <summary>
/// A BEP 52 hash message: hash request (21), hashes (22) or hash reject (23). All three start with the same 48 bytes
/// (pieces root, base layer, index, length, proof layers); hashes then carries the requested hashes followed by the
/// uncles, 32 bytes each.
/// </summary>
/// <param name="Id">Which of the three.</param>
/// <param name="Request">The range of the tree the message is about.</param>
/// <param name="Hashes">For <see cref="MessageId.Hashes"/>: the hashes, then the uncles; empty otherwise.</param>
public sealed record HashMessage(MessageId Id, HashRequest Request, byte[] Hashes)
{
    /// <summary>Bytes of the common header: root (32), base layer, index, length, proof layers (4 each).</summary>
    public const int HeaderLength = Sha256Hash.Length + 16;

    /// <summary>Most hashes a 'hashes' message may carry: a request's limit of 512 plus one uncle for each of 64 layers, generously.</summary>
    public const int MaxHashes = 8192 + 64;

    /// <summary>True for the three BEP 52 hash message ids.</summary>
    public static bool IsHashMessage(MessageId id) => id is MessageId.HashRequest or MessageId.Hashes or MessageId.HashReject;

    /// <summary>
    /// Parses a message body (after the id byte), strictly: a request or reject is exactly 48 bytes, hashes 48 bytes and
    /// a whole number of 32-byte hashes; no field may exceed a signed 32-bit value.
    /// </summary>
    /// <exception cref="WireProtocolException">The body is malformed.</exception>
    public static HashMessage Parse(MessageId id, ReadOnlySequence<byte> body)
    {
        if (!IsHashMessage(id)) throw new ArgumentOutOfRangeException(nameof(id), $"{id} is not a hash message");
        if (body.Length < HeaderLength) throw new WireProtocolException($"{id} message is {body.Length} bytes, shorter than its {HeaderLength}-byte header");
        if (id != MessageId.Hashes && body.Length != HeaderLength) throw new WireProtocolException($"{id} message must be {HeaderLength} bytes, got {body.Length}");
        long hashBytes = body.Length - HeaderLength;
        if (hashBytes % Sha256Hash.Length != 0) throw new WireProtocolException($"hashes message carries {hashBytes} bytes of hashes, not a multiple of 32");
        Span<byte> header = stackalloc byte[HeaderLength];
        body.Slice(0, HeaderLength).CopyTo(header);
        var request = new HashRequest(new Sha256Hash(header[..Sha256Hash.Length]),
            Field(id, header, 32, "base layer"), Field(id, header, 36, "index"), Field(id, header, 40, "length"), Field(id, header, 44, "proof layers"));
        byte[] hashes = hashBytes == 0 ? [] : body.Slice(HeaderLength).ToArray();
        return new HashMessage(id, request, hashes);
    }

    /// <summary>The body of the message (everything after the id byte).</summary>
    public byte[] ToBody()
    {
        byte[] body = new byte[HeaderLength + Hashes.Length];
        Request.Root.Span.CopyTo(body);
        BinaryPrimitives.WriteInt32BigEndian(body.AsSpan(32), Request.BaseLayer);
        BinaryPrimitives.WriteInt32BigEndian(body.AsSpan(36), Request.Index);
        BinaryPrimitives.WriteInt32BigEndian(body.AsSpan(40), Request.Length);
        BinaryPrimitives.WriteInt32BigEndian(body.AsSpan(44), Request.ProofLayers);
        Hashes.CopyTo(body, HeaderLength);
        return body;
    }

    private static int Field(MessageId id, ReadOnlySpan<byte> header, int offset, string name)
    {
        uint value = BinaryPrimitives.ReadUInt32BigEndian(header[offset..]);
        if (value > int.MaxValue) throw new WireProtocolException($"{id} {name} {value} is out of range");
        return (int)value;
    }

    /// <inheritdoc />
    public override string ToString() => $"{Id}({Request}{(Hashes.Length > 0 ? $", {Hashes.Length / Sha256Hash.Length} hashes" : "")})";
}
