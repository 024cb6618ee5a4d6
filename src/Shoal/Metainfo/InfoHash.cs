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

    /// <summary>
    /// Parses 40 hex characters or 32 RFC 4648 base32 characters (either case).
    /// Throws <see cref="MetainfoException"/> otherwise.
    /// </summary>
    public static InfoHash Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryParse(text, out InfoHash hash)
            ? hash
            : throw new MetainfoException($"an info-hash is 40 hex or 32 base32 characters, not '{Shorten(text)}'");
    }

    /// <summary>Parses 40 hex or 32 base32 characters; false on anything else.</summary>
    public static bool TryParse(string? text, out InfoHash hash)
    {
        hash = default;
        if (text is null) return false;
        Span<byte> bytes = stackalloc byte[Length];
        bool ok = text.Length switch
        {
            Length * 2 => TryDecodeHex(text, bytes),
            32 => TryDecodeBase32(text, bytes),
            _ => false,
        };
        if (ok) hash = new InfoHash(bytes);
        return ok;
    }

    /// <summary>Upper-case RFC 4648 base32, 32 characters, no padding.</summary>
    public string ToBase32()
    {
        const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        ReadOnlySpan<byte> bytes = Span;
        Span<char> chars = stackalloc char[32];
        int bitBuffer = 0, bits = 0, n = 0;
        foreach (byte b in bytes)
        {
            bitBuffer = (bitBuffer << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                bits -= 5;
                chars[n++] = Alphabet[(bitBuffer >> bits) & 31];
            }
        }
        return new string(chars);
    }

    private static bool TryDecodeHex(string text, Span<byte> bytes)
    {
        for (int i = 0; i < bytes.Length; i++)
        {
            int hi = HexValue(text[2 * i]), lo = HexValue(text[(2 * i) + 1]);
            if (hi < 0 || lo < 0) return false;
            bytes[i] = (byte)((hi << 4) | lo);
        }
        return true;
    }

    private static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };

    private static bool TryDecodeBase32(string text, Span<byte> bytes)
    {
        // 32 characters * 5 bits = 160 bits = exactly 20 bytes, so no padding and no leftover bits.
        int bitBuffer = 0, bits = 0, n = 0;
        foreach (char c in text)
        {
            int v = c switch
            {
                >= 'A' and <= 'Z' => c - 'A',
                >= 'a' and <= 'z' => c - 'a',
                >= '2' and <= '7' => c - '2' + 26,
                _ => -1,
            };
            if (v < 0) return false;
            bitBuffer = (bitBuffer << 5) | v;
            bits += 5;
            if (bits >= 8)
            {
                bits -= 8;
                bytes[n++] = (byte)(bitBuffer >> bits);
            }
            bitBuffer &= (1 << bits) - 1;
        }
        return n == Length;
    }

    private static string Shorten(string text) => text.Length <= 80 ? text : text[..80] + "...";

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
