using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Shoal.Dht;

/// <summary>
/// Turns the configured bootstrap nodes ("host:port", "[v6]:port") into endpoints: literals as they are, names
/// through DNS. A name that does not resolve or a malformed entry is logged and skipped, never fatal (offline, the
/// public routers simply are not there). At most <see cref="MaxEndPoints"/> endpoints come out: every lookup of a node
/// with a small table asks all of them.
/// </summary>
public static class BootstrapResolver
{
    /// <summary>Most endpoints returned.</summary>
    public const int MaxEndPoints = 16;

    /// <summary>Resolves <paramref name="nodes"/> in order, keeping the endpoints of <paramref name="family"/> (null: all); duplicates are dropped.</summary>
    public static async Task<List<IPEndPoint>> ResolveAsync(IReadOnlyList<string> nodes, AddressFamily? family, Action<string>? log,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        var endPoints = new List<IPEndPoint>();
        foreach (string text in nodes)
        {
            cancellationToken.ThrowIfCancellationRequested();
            foreach (IPEndPoint endPoint in await ResolveOneAsync(text, log, cancellationToken).ConfigureAwait(false))
            {
                if (endPoints.Count >= MaxEndPoints) return endPoints;
                if (family is { } f && endPoint.AddressFamily != f) continue;
                if (!endPoints.Contains(endPoint)) endPoints.Add(endPoint);
            }
        }
        return endPoints;
    }

    /// <summary>Splits "host:port" or "[v6]:port".</summary>
    public static bool TryParseHostPort(string text, out string host, out int port)
    {
        host = "";
        port = 0;
        if (string.IsNullOrWhiteSpace(text)) return false;
        int colon = text.LastIndexOf(':');
        if (colon <= 0) return false;
        host = text[..colon];
        if (host.StartsWith('[') && host.EndsWith(']')) host = host[1..^1];
        return int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out port) && port is > 0 and <= 65535 && host.Length > 0;
    }

    private static async Task<List<IPEndPoint>> ResolveOneAsync(string text, Action<string>? log, CancellationToken cancellationToken)
    {
        if (!TryParseHostPort(text, out string host, out int port))
        {
            log?.Invoke($"ignoring bootstrap node '{text}': expected HOST:PORT");
            return [];
        }
        if (IPAddress.TryParse(host, out IPAddress? literal)) return [new IPEndPoint(literal, port)];
        try
        {
            IPAddress[] addresses = await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
            var list = new List<IPEndPoint>(addresses.Length);
            foreach (IPAddress a in addresses) list.Add(new IPEndPoint(a, port));
            return list;
        }
        catch (Exception ex) when (ex is SocketException or ArgumentException)
        {
            log?.Invoke($"cannot resolve bootstrap node {host}: {ex.Message}");
            return [];
        }
    }
}
