using System.Buffers;
using Shoal.Metainfo;

namespace Shoal.Wire;

/// <summary>
/// The 68-byte BitTorrent handshake (BEP 3): <c>19 "BitTorrent protocol" reserved[8] info_hash[20]
/// peer_id[20]</c>.
/// </summary>
public readonly struct Handshake
{
    /// <summary>Length of the handshake on the wire.</summary>
    public const int Length = 68;

    /// <summary>Length of a peer id.</summary>
    public const int PeerIdLength = 20;

    /// <summary>Length of the protocol header (length byte + protocol string).</summary>
    public const int ProtocolHeaderLength = 20;

    private const int ReservedOffset = 20;
    private const int InfoHashOffset = 28;
    private const int PeerIdOffset = 48;

    /// <summary>The 20 bytes every plaintext BitTorrent connection starts with.</summary>
    internal static ReadOnlySpan<byte> ProtocolHeader => "\u0013BitTorrent protocol"u8;

    /// <summary>Creates a handshake; <paramref name="peerId"/> must be 20 bytes (it is not copied).</summary>
    public Handshake(InfoHash infoHash, ReadOnlyMemory<byte> peerId, ReservedBits reserved)
    {
        if (peerId.Length != PeerIdLength) throw new ArgumentException("a peer id is 20 bytes", nameof(peerId));
        InfoHash = infoHash;
        PeerId = peerId;
        Reserved = reserved;
    }

    /// <summary>The torrent the peer wants to talk about.</summary>
    public InfoHash InfoHash { get; }

    /// <summary>The peer's 20-byte id.</summary>
    public ReadOnlyMemory<byte> PeerId { get; }

    /// <summary>The extensions the peer advertises.</summary>
    public ReservedBits Reserved { get; }

    /// <summary>Writes the 68 bytes into <paramref name="destination"/>.</summary>
    public void WriteTo(Span<byte> destination)
    {
        if (destination.Length < Length) throw new ArgumentException("destination needs 68 bytes", nameof(destination));
        ProtocolHeader.CopyTo(destination);
        Reserved.CopyTo(destination[ReservedOffset..]);
        InfoHash.Span.CopyTo(destination[InfoHashOffset..]);
        if (PeerId.Length == PeerIdLength) PeerId.Span.CopyTo(destination[PeerIdOffset..]);
        else destination.Slice(PeerIdOffset, PeerIdLength).Clear(); // default(Handshake)
    }

    /// <summary>Writes the 68 bytes into a buffer writer such as a <c>PipeWriter</c>.</summary>
    public void WriteTo(IBufferWriter<byte> writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        WriteTo(writer.GetSpan(Length));
        writer.Advance(Length);
    }

    /// <summary>
    /// Parses a handshake from the start of <paramref name="buffer"/>. Returns false while fewer than 68
    /// bytes are there; on success slices <paramref name="buffer"/> past the handshake. The protocol header
    /// is checked on every call against however many of its bytes have arrived, so garbage is rejected
    /// without waiting for the whole handshake.
    /// </summary>
    /// <exception cref="WireProtocolException">The bytes are not a BitTorrent handshake.</exception>
    public static bool TryParse(ref ReadOnlySequence<byte> buffer, out Handshake handshake)
    {
        handshake = default;
        int available = (int)Math.Min(buffer.Length, ProtocolHeaderLength);
        if (available > 0)
        {
            Span<byte> head = stackalloc byte[ProtocolHeaderLength];
            buffer.Slice(0, available).CopyTo(head);
            if (!head[..available].SequenceEqual(ProtocolHeader[..available]))
            {
                throw new WireProtocolException(head[0] != ProtocolHeader[0]
                    ? $"not a BitTorrent handshake: protocol name length is {head[0]}, expected 19"
                    : "not a BitTorrent handshake: protocol name is not 'BitTorrent protocol'");
            }
        }

        if (buffer.Length < Length) return false;

        Span<byte> bytes = stackalloc byte[Length];
        buffer.Slice(0, Length).CopyTo(bytes);
        handshake = new Handshake(
            new InfoHash(bytes.Slice(InfoHashOffset, InfoHash.Length)),
            bytes.Slice(PeerIdOffset, PeerIdLength).ToArray(),
            new ReservedBits(bytes.Slice(ReservedOffset, ReservedBits.Length)));
        buffer = buffer.Slice(Length);
        return true;
    }
}
