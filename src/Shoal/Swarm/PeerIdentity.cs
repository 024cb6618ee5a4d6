using System.Security.Cryptography;
using System.Text;

namespace Shoal.Swarm;

/// <summary>Peer ids (Azureus style, <see cref="ShoalVersion.PeerIdPrefix"/> + 12 random characters) and client names guessed from them.</summary>
public static class PeerIdentity
{
    private const string Alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

    /// <summary>A new random Shoal peer id, from <paramref name="random"/> when given (a seeded session), else from the OS.</summary>
    public static byte[] NewPeerId(Random? random = null)
    {
        byte[] id = new byte[20];
        Encoding.ASCII.GetBytes(ShoalVersion.PeerIdPrefix, id);
        Span<byte> bytes = stackalloc byte[12];
        if (random is null) RandomNumberGenerator.Fill(bytes);
        else random.NextBytes(bytes);
        for (int i = 0; i < 12; i++) id[8 + i] = (byte)Alphabet[bytes[i] % Alphabet.Length];
        return id;
    }

    /// <summary>A readable client name from the Azureus-style prefix, or "unknown".</summary>
    public static string ClientName(ReadOnlySpan<byte> peerId)
    {
        if (peerId.Length == 20 && peerId[0] == '-' && peerId[7] == '-')
        {
            string code = Encoding.ASCII.GetString(peerId.Slice(1, 2));
            string version = Version(peerId.Slice(3, 4));
            string name = code switch
            {
                "SH" => "Shoal",
                "LT" => "libtorrent",
                "lt" => "libTorrent (rakshasa)",
                "TR" => "Transmission",
                "qB" => "qBittorrent",
                "DE" => "Deluge",
                "UT" => "µTorrent",
                "AZ" => "Vuze",
                "BI" => "BiglyBT",
                _ => code,
            };
            return version.Length > 0 ? $"{name} {version}" : name;
        }
        if (peerId.Length >= 3 && peerId[0] == 'A' && peerId[1] == '2' && peerId[2] == '-') return "aria2";
        return "unknown";
    }

    /// <summary>
    /// The four version characters as "major.minor.patch" (a fourth part only when it is not 0): "0100" is 0.1.0, as
    /// <see cref="ShoalVersion.Number"/> says; "2080" is libtorrent 2.0.8. Letters stand for 10 and up.
    /// </summary>
    private static string Version(ReadOnlySpan<byte> digits)
    {
        var parts = new List<int>(4);
        foreach (byte c in digits)
        {
            if (c is >= (byte)'0' and <= (byte)'9') parts.Add(c - '0');
            else if (c is >= (byte)'A' and <= (byte)'Z') parts.Add(c - 'A' + 10);
            else if (c is >= (byte)'a' and <= (byte)'z') parts.Add(c - 'a' + 10);
            else break;
        }
        if (parts.Count == 4 && parts[3] == 0) parts.RemoveAt(3);
        return string.Join('.', parts);
    }
}
