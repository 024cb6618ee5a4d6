using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Shoal.Daemon.Security;
using Shoal.Daemon.Service;

namespace Shoal.Daemon.QBittorrent;

/// <summary>
/// The Web API's key (qBittorrent 5.2's "API key", sent as <c>Authorization: Bearer KEY</c>): at most one, made by
/// app/rotateAPIKey and shown only then; only its SHA-256 is kept (in the settings table, never shown), which is
/// enough for a random 28-character key.
/// </summary>
internal sealed class QbApiKeys(TorrentService service, string? storedHash)
{
    /// <summary>The settings-table key of the hash (a secret: never shown with the settings).</summary>
    public const string HashSetting = "security.api_key_hash";

    private const string Prefix = "qbt_";
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    private string? _hash = storedHash;

    /// <summary>A key is set.</summary>
    public bool Exists => Volatile.Read(ref _hash) is not null;

    /// <summary>True when <paramref name="key"/> is the key.</summary>
    public bool Check(string key)
    {
        string? hash = Volatile.Read(ref _hash);
        return hash is not null && DaemonSecurity.TokensEqual(Hash(key), hash);
    }

    /// <summary>Makes a new key (the old one stops working) and returns it; only its hash is stored.</summary>
    public async Task<string> RotateAsync()
    {
        string key = Prefix + RandomNumberGenerator.GetString(Alphabet, 28);
        string hash = Hash(key);
        await service.PutSecretAsync(HashSetting, JsonValue.Create(hash).ToJsonString()).ConfigureAwait(false);
        Volatile.Write(ref _hash, hash);
        return key;
    }

    public async Task DeleteAsync()
    {
        await service.PutSecretAsync(HashSetting, null).ConfigureAwait(false);
        Volatile.Write(ref _hash, null);
    }

    private static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
}
