using System.Security.Cryptography;
using System.Text;

namespace Shoal.Swarm;

/// <summary>Peer ids (Azureus style, "-SH0100-" + 12 random characters) and client names guessed from them.</summary>
public static class PeerIdentity
{
    private const string Alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

    /// <summary>A new random Shoal peer id, from <paramref name="random"/> when given (a seeded session), else from the OS.</summary>
    public static byte[] NewPeerId(Random? random = null)
    {
        byte[] id = new byte[20];
        Encoding.ASCII.GetBytes("-SH0100-", id);
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
            string version = string.Join('.', Encoding.ASCII.GetString(peerId.Slice(3, 4)).TrimEnd('0', '-').ToCharArray());
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
}
