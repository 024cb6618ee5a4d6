using System.Text;

namespace Shoal.Daemon.Http;

/// <summary>
/// HTTP Basic authentication (RFC 7617) as all three APIs accept it: the daemon has one password and no user names,
/// so only the part after the first colon counts (Transmission and qBittorrent clients send a user name too).
/// </summary>
internal static class BasicAuthorization
{
    /// <summary>The password of an <c>Authorization: Basic …</c> header; null when the header is not Basic or not well formed.</summary>
    public static string? Password(string authorization)
    {
        if (!authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase)) return null;
        try
        {
            string decoded = Encoding.UTF8.GetString(Convert.FromBase64String(authorization[6..].Trim()));
            int colon = decoded.IndexOf(':', StringComparison.Ordinal);
            return colon < 0 ? null : decoded[(colon + 1)..];
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
