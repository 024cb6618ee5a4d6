using System.Net;
using System.Security.Cryptography;

namespace Shoal.Dht;

/// <summary>
/// get_peers write tokens (BEP 5): SHA-1 of the requester's IP and a secret, truncated to 8 bytes. The secret
/// rotates every <see cref="RotationInterval"/> (5 minutes) and the previous one is still accepted, so a token is
/// valid for at least 5 and at most 10 minutes ("tokens up to ten minutes old are accepted"). Single owner.
/// </summary>
public sealed class TokenManager
{
    /// <summary>Bytes of a token.</summary>
    public const int TokenLength = 8;

    private const int SecretLength = 16;
    private readonly TimeProvider _time;
    private readonly byte[] _current = new byte[SecretLength];
    private readonly byte[] _previous = new byte[SecretLength];
    private DateTimeOffset _rotatedAt;

    /// <summary>Creates the manager with fresh random secrets.</summary>
    public TokenManager(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
        RandomNumberGenerator.Fill(_current);
        RandomNumberGenerator.Fill(_previous);
        _rotatedAt = time.GetUtcNow();
    }

    /// <summary>How often the secret changes.</summary>
    public static TimeSpan RotationInterval => TimeSpan.FromMinutes(5);

    /// <summary>The token to hand to <paramref name="address"/> now.</summary>
    public byte[] Create(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        RotateIfDue();
        var token = new byte[TokenLength];
        Compute(_current, address, token);
        return token;
    }

    /// <summary>Whether <paramref name="token"/> was handed to <paramref name="address"/> within the validity window.</summary>
    public bool Validate(ReadOnlySpan<byte> token, IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        RotateIfDue();
        if (token.Length != TokenLength) return false;
        Span<byte> expected = stackalloc byte[TokenLength];
        Compute(_current, address, expected);
        if (CryptographicOperations.FixedTimeEquals(expected, token)) return true;
        Compute(_previous, address, expected);
        return CryptographicOperations.FixedTimeEquals(expected, token);
    }

    private void RotateIfDue()
    {
        DateTimeOffset now = _time.GetUtcNow();
        TimeSpan elapsed = now - _rotatedAt;
        if (elapsed < RotationInterval) return;
        if (elapsed >= 2 * RotationInterval)
        {
            // Idle for two periods: both secrets are stale.
            RandomNumberGenerator.Fill(_previous);
        }
        else
        {
            _current.CopyTo(_previous, 0);
        }
        RandomNumberGenerator.Fill(_current);
        _rotatedAt = now;
    }

    private static void Compute(byte[] secret, IPAddress address, Span<byte> token)
    {
        Span<byte> input = stackalloc byte[SecretLength + 16];
        secret.CopyTo(input);
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        address.TryWriteBytes(input[SecretLength..], out int written);
        Span<byte> hash = stackalloc byte[20];
        SHA1.HashData(input[..(SecretLength + written)], hash);
        hash[..TokenLength].CopyTo(token);
    }
}
