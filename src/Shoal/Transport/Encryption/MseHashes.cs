using System.Security.Cryptography;

namespace Shoal.Transport.Encryption;

/// <summary>
/// The SHA-1 values the MSE/PE handshake derives from the shared secret S and the stream key SKEY (the torrent's
/// 20-byte info-hash): the sync hash, the obfuscated stream key and the two RC4 keys.
/// </summary>
public static class MseHashes
{
    /// <summary>Length of every hash here.</summary>
    public const int Length = 20;

    /// <summary>HASH('req1', S): the marker the responder synchronises on after the initiator's padding.</summary>
    public static byte[] SyncHash(ReadOnlySpan<byte> secret) => Hash("req1"u8, secret, default);

    /// <summary>HASH('req2', SKEY): what identifies a torrent without naming its info-hash.</summary>
    public static byte[] StreamKeyHash(ReadOnlySpan<byte> streamKey) => Hash("req2"u8, streamKey, default);

    /// <summary>HASH('req3', S): the mask XORed over <see cref="StreamKeyHash"/> on the wire.</summary>
    public static byte[] StreamKeyMask(ReadOnlySpan<byte> secret) => Hash("req3"u8, secret, default);

    /// <summary>HASH('keyA', S, SKEY): the RC4 key of the initiator's sending direction.</summary>
    public static byte[] InitiatorKey(ReadOnlySpan<byte> secret, ReadOnlySpan<byte> streamKey) => Hash("keyA"u8, secret, streamKey);

    /// <summary>HASH('keyB', S, SKEY): the RC4 key of the responder's sending direction.</summary>
    public static byte[] ResponderKey(ReadOnlySpan<byte> secret, ReadOnlySpan<byte> streamKey) => Hash("keyB"u8, secret, streamKey);

    /// <summary>HASH('req2', SKEY) xor HASH('req3', S), as the initiator sends it.</summary>
    public static byte[] ObfuscatedStreamKey(ReadOnlySpan<byte> secret, ReadOnlySpan<byte> streamKey)
    {
        byte[] result = StreamKeyHash(streamKey);
        Xor(result, StreamKeyMask(secret));
        return result;
    }

    /// <summary>XORs <paramref name="mask"/> into <paramref name="target"/>.</summary>
    public static void Xor(Span<byte> target, ReadOnlySpan<byte> mask)
    {
        for (int k = 0; k < target.Length; k++) target[k] ^= mask[k];
    }

    private static byte[] Hash(ReadOnlySpan<byte> label, ReadOnlySpan<byte> first, ReadOnlySpan<byte> second)
    {
        using var sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        sha1.AppendData(label);
        sha1.AppendData(first);
        if (!second.IsEmpty) sha1.AppendData(second);
        return sha1.GetHashAndReset();
    }
}
