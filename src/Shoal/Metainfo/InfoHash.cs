using System.Security.Cryptography;

namespace Shoal.Metainfo;

/// <summary>
/// A 20-byte BitTorrent info-hash as it travels on the wire: the SHA-1 of a v1 info dictionary, or the
/// first 20 bytes of a v2 SHA-256 info-hash (BEP 52). Value type, compares by content.
/// </summary>
public readonly struct InfoHash : IEquatable<InfoHash>
{
    /// <summary>Length in bytes.</summary>
    public const int Length = 20;

    private readonly byte[]? _bytes;

    /// <summary>Creates an info-hash from exactly 20 bytes (copied).</summary>
    public InfoHash(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Length) throw new ArgumentException("an info-hash is 20 bytes", nameof(bytes));
        _bytes = bytes.ToArray();
    }

    /// <summary>The 20 bytes.</summary>
    public ReadOnlySpan<byte> Span => _bytes ?? new byte[Length];

    /// <summary>SHA-1 of the given bencoded info dictionary.</summary>
    public static InfoHash ComputeV1(ReadOnlySpan<byte> infoDictionary)
    {
        Span<byte> hash = stackalloc byte[Length];
        SHA1.HashData(infoDictionary, hash);
        return new InfoHash(hash);
    }

    /// <summary>Lower-case hex, 40 characters.</summary>
    public string ToHex() => Convert.ToHexStringLower(Span);

    /// <inheritdoc />
    public override string ToString() => ToHex();

    /// <inheritdoc />
    public bool Equals(InfoHash other) => Span.SequenceEqual(other.Span);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is InfoHash other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => BitConverter.ToInt32(Span);

    /// <summary>Equality by content.</summary>
    public static bool operator ==(InfoHash left, InfoHash right) => left.Equals(right);

    /// <summary>Inequality by content.</summary>
    public static bool operator !=(InfoHash left, InfoHash right) => !left.Equals(right);
}
