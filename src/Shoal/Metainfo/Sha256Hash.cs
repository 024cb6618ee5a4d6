using System.Security.Cryptography;

namespace Shoal.Metainfo;

/// <summary>
/// A 32-byte SHA-256 digest: a BEP 52 v2 info-hash, a file's <c>pieces root</c>, or a node of a merkle tree.
/// Value type, compares by content; <c>default</c> is 32 zero bytes.
/// </summary>
public readonly struct Sha256Hash : IEquatable<Sha256Hash>
{
    /// <summary>Length in bytes.</summary>
    public const int Length = 32;

    private readonly byte[]? _bytes;

    /// <summary>Creates the hash from exactly 32 bytes (copied).</summary>
    public Sha256Hash(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Length) throw new ArgumentException("a SHA-256 hash is 32 bytes", nameof(bytes));
        _bytes = bytes.ToArray();
    }

    /// <summary>The 32 bytes.</summary>
    public ReadOnlySpan<byte> Span => _bytes ?? new byte[Length];

    /// <summary>True when every byte is zero (BEP 52 uses zero hashes for padding; a zero root is invalid).</summary>
    public bool IsZero => _bytes is null || !_bytes.AsSpan().ContainsAnyExcept((byte)0);

    /// <summary>SHA-256 of <paramref name="data"/>.</summary>
    public static Sha256Hash Compute(ReadOnlySpan<byte> data)
    {
        Span<byte> hash = stackalloc byte[Length];
        SHA256.HashData(data, hash);
        return new Sha256Hash(hash);
    }

    /// <summary>Parses 64 hex characters (either case); throws <see cref="MetainfoException"/> otherwise.</summary>
    public static Sha256Hash Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryParse(text, out Sha256Hash hash)
            ? hash
            : throw new MetainfoException($"a SHA-256 hash is 64 hex characters, not '{TorrentPathRules.Printable(text)}'");
    }

    /// <summary>Parses 64 hex characters; false on anything else.</summary>
    public static bool TryParse(string? text, out Sha256Hash hash)
    {
        hash = default;
        if (text is null || text.Length != Length * 2) return false;
        Span<byte> bytes = stackalloc byte[Length];
        if (Convert.FromHexString(text, bytes, out _, out int written) != System.Buffers.OperationStatus.Done || written != Length) return false;
        hash = new Sha256Hash(bytes);
        return true;
    }

    /// <summary>The first 20 bytes: how a v2 info-hash travels in handshakes, trackers and the DHT (BEP 52).</summary>
    public InfoHash Truncate() => new(Span[..InfoHash.Length]);

    /// <summary>Lower-case hex, 64 characters.</summary>
    public string ToHex() => Convert.ToHexStringLower(Span);

    /// <inheritdoc />
    public override string ToString() => ToHex();

    /// <inheritdoc />
    public bool Equals(Sha256Hash other) => Span.SequenceEqual(other.Span);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is Sha256Hash other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => BitConverter.ToInt32(Span);

    /// <summary>Equality by content.</summary>
    public static bool operator ==(Sha256Hash left, Sha256Hash right) => left.Equals(right);

    /// <summary>Inequality by content.</summary>
    public static bool operator !=(Sha256Hash left, Sha256Hash right) => !left.Equals(right);
}
