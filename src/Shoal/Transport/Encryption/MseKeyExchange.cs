using System.Numerics;
using System.Security.Cryptography;

namespace Shoal.Transport.Encryption;

/// <summary>
/// One side's Diffie-Hellman key pair for an MSE/PE handshake: the 768-bit prime P of the specification,
/// generator 2, a 160-bit private key (the specification's recommended length; libtorrent uses the same).
/// Public keys and the shared secret travel as 96-byte big-endian numbers, left-padded with zeros.
/// </summary>
public sealed class MseKeyExchange
{
    /// <summary>Length of a public key and of the shared secret S on the wire.</summary>
    public const int KeyLength = 96;

    /// <summary>Length of a generated private key in bytes (160 bits).</summary>
    public const int PrivateKeyLength = 20;

    /// <summary>The MSE prime P (768 bits; the first Oakley group's modulus).</summary>
    public static BigInteger Prime { get; } = BigInteger.Parse(
        "0FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A43" +
        "1B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A63A36210000000000090563",
        System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The generator G.</summary>
    public static BigInteger Generator { get; } = new(2);

    private static readonly BigInteger PrimeMinusOne = Prime - 1;

    private readonly BigInteger _privateKey;

    /// <summary>A fresh key pair from the system's cryptographic random generator.</summary>
    /// <remarks>
    /// Deliberately not the session's seeded <see cref="Random"/>: a private key anyone could replay from a seed would
    /// defeat the exchange. Simulations that need reproducible bytes use <see cref="MseKeyExchange(ReadOnlySpan{byte})"/>.
    /// </remarks>
    public MseKeyExchange() : this(RandomNumberGenerator.GetBytes(PrivateKeyLength))
    {
    }

    /// <summary>A key pair with the given private key (big-endian; tests and reproducible simulations).</summary>
    public MseKeyExchange(ReadOnlySpan<byte> privateKey)
    {
        if (privateKey.IsEmpty || privateKey.Length > KeyLength) throw new ArgumentException("a private key is 1 to 96 bytes", nameof(privateKey));
        _privateKey = new BigInteger(privateKey, isUnsigned: true, isBigEndian: true);
        if (_privateKey.IsZero) throw new ArgumentException("a private key must not be zero", nameof(privateKey));
        PublicKey = ToWire(BigInteger.ModPow(Generator, _privateKey, Prime));
    }

    /// <summary>Our public key Y = G^X mod P, 96 bytes big-endian.</summary>
    public byte[] PublicKey { get; }

    /// <summary>
    /// The shared secret S = Yremote^X mod P, 96 bytes big-endian. Throws <see cref="EncryptionHandshakeException"/>
    /// when the remote key lies outside [2, P-2]: 0, 1 and P-1 (and anything not below P) would put S in a subgroup of
    /// at most two elements, a secret anyone on the path knows.
    /// </summary>
    public byte[] ComputeSecret(ReadOnlySpan<byte> remotePublicKey)
    {
        if (remotePublicKey.Length != KeyLength) throw new ArgumentException("a public key is 96 bytes", nameof(remotePublicKey));
        var remote = new BigInteger(remotePublicKey, isUnsigned: true, isBigEndian: true);
        if (remote < 2 || remote >= PrimeMinusOne)
            throw new EncryptionHandshakeException(EncryptionFailure.InvalidPublicKey, "the peer's Diffie-Hellman key is degenerate (outside 2..P-2)");
        return ToWire(BigInteger.ModPow(remote, _privateKey, Prime));
    }

    private static byte[] ToWire(BigInteger value)
    {
        var bytes = new byte[KeyLength];
        int length = value.GetByteCount(isUnsigned: true);
        value.TryWriteBytes(bytes.AsSpan(KeyLength - length), out _, isUnsigned: true, isBigEndian: true);
        return bytes;
    }
}
