using System.Buffers.Binary;

namespace Shoal.Wire;

/// <summary>
/// The 8 reserved bytes of the handshake, where peers advertise protocol extensions. Stored as one
/// big-endian <see cref="ulong"/> (byte 0 is the most significant byte), so it is a plain value type.
/// </summary>
public readonly struct ReservedBits : IEquatable<ReservedBits>
{
    /// <summary>Number of reserved bytes in the handshake.</summary>
    public const int Length = 8;

    private const ulong ExtensionProtocolBit = 0x10UL << 16; // byte 5, 0x10 (BEP 10)
    private const ulong FastBit = 0x04UL;                    // byte 7, 0x04 (BEP 6)
    private const ulong DhtBit = 0x01UL;                     // byte 7, 0x01 (BEP 5)
    private const ulong V2Bit = 0x10UL;                      // byte 7, 0x10 (BEP 52: the 4th most significant bit of the last byte)

    /// <summary>Creates the bits from their big-endian 64-bit value (byte 0 most significant).</summary>
    public ReservedBits(ulong value) => Value = value;

    /// <summary>Creates the bits from exactly 8 bytes as they appear on the wire.</summary>
    public ReservedBits(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Length) throw new ArgumentException("the reserved field is 8 bytes", nameof(bytes));
        Value = BinaryPrimitives.ReadUInt64BigEndian(bytes);
    }

    /// <summary>The raw 8 bytes as one big-endian value: byte 0 is the most significant byte.</summary>
    public ulong Value { get; }

    /// <summary>One raw byte, 0..7, as on the wire.</summary>
    public byte this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Length);
            return (byte)(Value >> (8 * (Length - 1 - index)));
        }
    }

    /// <summary>BEP 10 extension protocol (reserved byte 5, bit 0x10).</summary>
    public bool SupportsExtensionProtocol => (Value & ExtensionProtocolBit) != 0;

    /// <summary>BEP 6 fast extension (reserved byte 7, bit 0x04).</summary>
    public bool SupportsFast => (Value & FastBit) != 0;

    /// <summary>BEP 5 DHT, i.e. the peer accepts PORT messages (reserved byte 7, bit 0x01).</summary>
    public bool SupportsDht => (Value & DhtBit) != 0;

    /// <summary>BEP 52: the peer speaks BitTorrent v2 too, so a hybrid torrent's connection may be upgraded to its v2 info-hash (reserved byte 7, bit 0x10).</summary>
    public bool SupportsV2 => (Value & V2Bit) != 0;

    /// <summary>Builds the reserved bits Shoal advertises.</summary>
    public static ReservedBits Create(bool extension, bool fast, bool dht) => Create(extension, fast, dht, v2: false);

    /// <summary>Builds the reserved bits Shoal advertises, with BEP 52's v2 bit when <paramref name="v2"/>.</summary>
    public static ReservedBits Create(bool extension, bool fast, bool dht, bool v2) =>
        new((extension ? ExtensionProtocolBit : 0) | (fast ? FastBit : 0) | (dht ? DhtBit : 0) | (v2 ? V2Bit : 0));

    /// <summary>Writes the 8 raw bytes.</summary>
    public void CopyTo(Span<byte> destination)
    {
        if (destination.Length < Length) throw new ArgumentException("destination needs 8 bytes", nameof(destination));
        BinaryPrimitives.WriteUInt64BigEndian(destination, Value);
    }

    /// <summary>The 8 raw bytes in a new array.</summary>
    public byte[] ToArray()
    {
        var bytes = new byte[Length];
        CopyTo(bytes);
        return bytes;
    }

    /// <inheritdoc />
    public bool Equals(ReservedBits other) => Value == other.Value;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is ReservedBits other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => Value.GetHashCode();

    /// <summary>Lower-case hex of the 8 bytes.</summary>
    public override string ToString() => Value.ToString("x16", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Equality by value.</summary>
    public static bool operator ==(ReservedBits left, ReservedBits right) => left.Equals(right);

    /// <summary>Inequality by value.</summary>
    public static bool operator !=(ReservedBits left, ReservedBits right) => !left.Equals(right);
}
