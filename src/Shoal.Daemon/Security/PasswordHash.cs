using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Shoal.Daemon.Security;

/// <summary>
/// A password kept only as a salted PBKDF2-HMAC-SHA512 hash (OWASP's 210,000 iterations), in the text form
/// <c>pbkdf2-sha512$ITERATIONS$SALT$HASH</c> (base64). The plain password is never stored or logged.
/// </summary>
public static class PasswordHash
{
    /// <summary>Iterations for new hashes (stored with each hash, so it can rise later without breaking old ones).</summary>
    public const int Iterations = 210_000;

    private const string Scheme = "pbkdf2-sha512";
    private const int SaltBytes = 16;
    private const int HashBytes = 64;

    /// <summary>Hashes <paramref name="password"/> with a fresh random salt.</summary>
    public static string Create(string password)
    {
        ArgumentNullException.ThrowIfNull(password);
        byte[] salt = RandomNumberGenerator.GetBytes(SaltBytes);
        byte[] hash = Derive(password, salt, Iterations);
        return string.Create(CultureInfo.InvariantCulture, $"{Scheme}${Iterations}${Convert.ToBase64String(salt)}${Convert.ToBase64String(hash)}");
    }

    /// <summary>True when <paramref name="password"/> matches <paramref name="stored"/> (constant-time comparison).</summary>
    public static bool Verify(string password, string stored)
    {
        ArgumentNullException.ThrowIfNull(password);
        if (!TryParse(stored, out int iterations, out byte[]? salt, out byte[]? expected)) return false;
        byte[] actual = Derive(password, salt!, iterations);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }

    /// <summary>True when <paramref name="stored"/> is a hash in this class's form.</summary>
    public static bool IsValid(string? stored) => stored is not null && TryParse(stored, out _, out _, out _);

    private static bool TryParse(string stored, out int iterations, out byte[]? salt, out byte[]? hash)
    {
        iterations = 0;
        salt = hash = null;
        string[] parts = stored.Split('$');
        if (parts.Length != 4 || parts[0] != Scheme) return false;
        if (!int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out iterations) || iterations is < 1_000 or > 10_000_000) return false;
        try
        {
            salt = Convert.FromBase64String(parts[2]);
            hash = Convert.FromBase64String(parts[3]);
        }
        catch (FormatException)
        {
            return false;
        }
        return salt.Length >= 8 && hash.Length == HashBytes;
    }

    private static byte[] Derive(string password, byte[] salt, int iterations)
        => Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA512, HashBytes);
}
