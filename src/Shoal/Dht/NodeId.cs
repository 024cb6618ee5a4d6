using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Numerics;
using Shoal.Metainfo;

namespace Shoal.Dht;

/// <summary>
/// A 160-bit Kademlia node id (or a lookup target: an info-hash is one too). Value type kept as three big-endian
/// integers so XOR distance and comparison are a few instructions. Ordering is numeric (big-endian bytes).
/// </summary>
public readonly struct NodeId : IEquatable<NodeId>, IComparable<NodeId>
{
    /// <summary>Length in bytes.</summary>
    public const int Length = 20;

    /// <summary>Number of bits.</summary>
    public const int Bits = 160;

    private readonly ulong _a; // bytes 0..7
    private readonly ulong _b; // bytes 8..15
    private readonly uint _c;  // bytes 16..19

    private NodeId(ulong a, ulong b, uint c)
    {
        _a = a;
        _b = b;
        _c = c;
    }

    /// <summary>Creates an id from exactly 20 bytes.</summary>
    /// <exception cref="ArgumentException">Not 20 bytes.</exception>
    public NodeId(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Length) throw new ArgumentException("a node id is 20 bytes", nameof(bytes));
        _a = BinaryPrimitives.ReadUInt64BigEndian(bytes);
        _b = BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]);
        _c = BinaryPrimitives.ReadUInt32BigEndian(bytes[16..]);
    }

    /// <summary>The all-zero id.</summary>
    public static NodeId Zero => default;

    /// <summary>The id of an info-hash (the same 20 bytes).</summary>
    public static NodeId FromInfoHash(InfoHash infoHash) => new(infoHash.Span);

    /// <summary>The info-hash with the same 20 bytes.</summary>
    public InfoHash ToInfoHash()
    {
        Span<byte> bytes = stackalloc byte[Length];
        CopyTo(bytes);
        return new InfoHash(bytes);
    }

    /// <summary>A uniformly random id.</summary>
    public static NodeId CreateRandom(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        Span<byte> bytes = stackalloc byte[Length];
        random.NextBytes(bytes);
        return new NodeId(bytes);
    }

    /// <summary>Writes the 20 bytes into <paramref name="destination"/>.</summary>
    public void CopyTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, _a);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], _b);
        BinaryPrimitives.WriteUInt32BigEndian(destination[16..], _c);
    }

    /// <summary>The 20 bytes as a new array.</summary>
    public byte[] ToArray()
    {
        var bytes = new byte[Length];
        CopyTo(bytes);
        return bytes;
    }

    /// <summary>The XOR distance between two ids, itself an id (compare distances with the ordering).</summary>
    public static NodeId operator ^(NodeId left, NodeId right) => new(left._a ^ right._a, left._b ^ right._b, left._c ^ right._c);

    /// <summary>The XOR distance to <paramref name="other"/>.</summary>
    public NodeId DistanceTo(NodeId other) => this ^ other;

    /// <summary>Negative when <paramref name="x"/> is closer to this target than <paramref name="y"/>, 0 when equal.</summary>
    public int CompareDistance(NodeId x, NodeId y) => (this ^ x).CompareTo(this ^ y);

    /// <summary>How many leading bits the two ids share (160 when equal).</summary>
    public int CommonPrefixLength(NodeId other)
    {
        NodeId d = this ^ other;
        if (d._a != 0) return BitOperations.LeadingZeroCount(d._a);
        if (d._b != 0) return 64 + BitOperations.LeadingZeroCount(d._b);
        if (d._c != 0) return 128 + BitOperations.LeadingZeroCount(d._c);
        return Bits;
    }

    /// <summary>The bit at <paramref name="index"/> (0 = most significant).</summary>
    public bool GetBit(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Bits);
        if (index < 64) return ((_a >> (63 - index)) & 1) != 0;
        if (index < 128) return ((_b >> (127 - index)) & 1) != 0;
        return ((_c >> (159 - index)) & 1) != 0;
    }

    /// <summary>
    /// A random id that shares the first <paramref name="prefixLength"/> bits with this one and differs at the next
    /// bit (so it falls in the bucket at that depth); used to refresh a bucket. 160 returns this id.
    /// </summary>
    public NodeId RandomWithPrefix(int prefixLength, Random random)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(prefixLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(prefixLength, Bits);
        ArgumentNullException.ThrowIfNull(random);
        if (prefixLength == Bits) return this;
        NodeId r = CreateRandom(random);
        Span<byte> mine = stackalloc byte[Length];
        Span<byte> other = stackalloc byte[Length];
        CopyTo(mine);
        r.CopyTo(other);
        for (int bit = 0; bit <= prefixLength; bit++)
        {
            int byteIndex = bit >> 3, mask = 0x80 >> (bit & 7);
            bool value = (mine[byteIndex] & mask) != 0;
            if (bit == prefixLength) value = !value;
            other[byteIndex] = (byte)(value ? other[byteIndex] | mask : other[byteIndex] & ~mask);
        }
        return new NodeId(other);
    }

    /// <summary>
    /// A BEP 42 id for <paramref name="externalAddress"/>: the first 21 bits come from CRC-32C of the masked address,
    /// the last byte holds the random r, the rest is random.
    /// </summary>
    public static NodeId CreateSecure(IPAddress externalAddress, Random random)
    {
        ArgumentNullException.ThrowIfNull(externalAddress);
        ArgumentNullException.ThrowIfNull(random);
        byte r = (byte)random.Next(256);
        uint crc = SecurePrefix(externalAddress, r);
        Span<byte> id = stackalloc byte[Length];
        random.NextBytes(id);
        id[0] = (byte)(crc >> 24);
        id[1] = (byte)(crc >> 16);
        id[2] = (byte)(((crc >> 8) & 0xF8) | (uint)(id[2] & 0x07));
        id[19] = r;
        return new NodeId(id);
    }

    /// <summary>
    /// Whether this id is BEP 42 compliant for <paramref name="address"/>. Local and private addresses are exempt
    /// (always true), as the BEP says.
    /// </summary>
    public bool IsSecureFor(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (IsExemptFromSecurity(address)) return true;
        byte r = (byte)_c; // last byte
        uint crc = SecurePrefix(address, r);
        // The first 21 bits must match.
        return ((_a >> 43) ^ (crc >> 11)) == 0;
    }

    /// <summary>True for addresses BEP 42 exempts: loopback, private, link-local, unique-local (fc00::/7).</summary>
    public static bool IsExemptFromSecurity(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (IPAddress.IsLoopback(address)) return true;
        Span<byte> b = stackalloc byte[16];
        if (!address.TryWriteBytes(b, out int n)) return true;
        if (n == 4)
        {
            return b[0] == 10
                || (b[0] == 172 && (b[1] & 0xF0) == 16)
                || (b[0] == 192 && b[1] == 168)
                || (b[0] == 169 && b[1] == 254)
                || b[0] == 127;
        }
        return (b[0] & 0xFE) == 0xFC || (b[0] == 0xFE && (b[1] & 0xC0) == 0x80);
    }

    private static uint SecurePrefix(IPAddress address, byte r)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        Span<byte> ip = stackalloc byte[16];
        if (!address.TryWriteBytes(ip, out int written)) return 0;
        ReadOnlySpan<byte> v4Mask = [0x03, 0x0f, 0x3f, 0xff];
        ReadOnlySpan<byte> v6Mask = [0x01, 0x03, 0x07, 0x0f, 0x1f, 0x3f, 0x7f, 0xff];
        bool v4 = address.AddressFamily == AddressFamily.InterNetwork && written == 4;
        ReadOnlySpan<byte> mask = v4 ? v4Mask : v6Mask;
        int count = mask.Length;
        for (int i = 0; i < count; i++) ip[i] &= mask[i];
        ip[0] |= (byte)((r & 0x7) << 5);
        return Crc32C.Compute(ip[..count]);
    }

    /// <summary>Parses 40 hex characters.</summary>
    /// <exception cref="FormatException">Not 40 hex characters.</exception>
    public static NodeId ParseHex(string hex)
    {
        ArgumentNullException.ThrowIfNull(hex);
        if (hex.Length != Length * 2) throw new FormatException("a node id is 40 hex characters");
        return new NodeId(Convert.FromHexString(hex));
    }

    /// <summary>Lower-case hex, 40 characters.</summary>
    public string ToHex()
    {
        Span<byte> bytes = stackalloc byte[Length];
        CopyTo(bytes);
        return Convert.ToHexStringLower(bytes);
    }

    /// <inheritdoc />
    public override string ToString() => ToHex();

    /// <inheritdoc />
    public int CompareTo(NodeId other)
    {
        int c = _a.CompareTo(other._a);
        if (c != 0) return c;
        c = _b.CompareTo(other._b);
        return c != 0 ? c : _c.CompareTo(other._c);
    }

    /// <inheritdoc />
    public bool Equals(NodeId other) => _a == other._a && _b == other._b && _c == other._c;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is NodeId other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(_a, _b, _c);

    /// <summary>Equality.</summary>
    public static bool operator ==(NodeId left, NodeId right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    public static bool operator !=(NodeId left, NodeId right) => !left.Equals(right);

    /// <summary>Numeric ordering.</summary>
    public static bool operator <(NodeId left, NodeId right) => left.CompareTo(right) < 0;

    /// <summary>Numeric ordering.</summary>
    public static bool operator >(NodeId left, NodeId right) => left.CompareTo(right) > 0;

    /// <summary>Numeric ordering.</summary>
    public static bool operator <=(NodeId left, NodeId right) => left.CompareTo(right) <= 0;

    /// <summary>Numeric ordering.</summary>
    public static bool operator >=(NodeId left, NodeId right) => left.CompareTo(right) >= 0;
}
