using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Shoal.PortMapping;

/// <summary>
/// SSDP discovery of Internet Gateway Devices: M-SEARCH to the multicast group (for IGD v1 and v2), then the
/// LOCATION of every answer within the discovery timeout. Bounded: at most <see cref="MaxDevices"/> locations, each
/// answer read into a fixed 2 KiB buffer, and a location is only taken when it names an IP address.
/// </summary>
internal static class SsdpDiscovery
{
    /// <summary>Most devices remembered from one search.</summary>
    public const int MaxDevices = 8;

    private static readonly string[] SearchTargets =
    [
        "urn:schemas-upnp-org:device:InternetGatewayDevice:1",
        "urn:schemas-upnp-org:device:InternetGatewayDevice:2",
    ];

    /// <summary>The description URLs of the gateways that answered, in the order they did.</summary>
    public static async Task<IReadOnlyList<Uri>> SearchAsync(PortMappingOptions options, Action<string> log, CancellationToken cancellationToken)
    {
        IPEndPoint target = options.SsdpEndPoint;
        using Socket socket = options.CreateSocket(target.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(target.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0));
        if (target.AddressFamily == AddressFamily.InterNetwork) socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastTimeToLive, 2);
        foreach (string st in SearchTargets)
        {
            string request = $"M-SEARCH * HTTP/1.1\r\nHOST: {target}\r\nST: {st}\r\nMAN: \"ssdp:discover\"\r\nMX: 2\r\n\r\n";
            await socket.SendToAsync(Encoding.ASCII.GetBytes(request), SocketFlags.None, target, cancellationToken).ConfigureAwait(false);
        }

        var found = new List<Uri>();
        var buffer = new byte[2048];
        using var window = new CancellationTokenSource(options.DiscoveryTimeout, options.Time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, window.Token);
        try
        {
            while (found.Count < MaxDevices)
            {
                SocketReceiveFromResult received = await socket.ReceiveFromAsync(buffer, SocketFlags.None,
                    new IPEndPoint(target.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0), linked.Token).ConfigureAwait(false);
                var from = (IPEndPoint)received.RemoteEndPoint;
                if (TryReadLocation(buffer.AsSpan(0, received.ReceivedBytes), out Uri? location, out string? problem))
                {
                    if (!found.Contains(location)) found.Add(location);
                }
                else if (problem is not null)
                {
                    log($"UPnP: ignored an answer from {from}: {problem}");
                }
            }
        }
        catch (OperationCanceledException) when (window.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            // the discovery window closed
        }
        return found;
    }

    /// <summary>
    /// Reads an M-SEARCH answer: "HTTP/1.1 200 OK" with an ST or USN naming a gateway and an http LOCATION on an IP
    /// address. False with a null problem for answers that are simply not for us (NOTIFY, other devices).
    /// </summary>
    public static bool TryReadLocation(ReadOnlySpan<byte> datagram, [NotNullWhen(true)] out Uri? location, out string? problem)
    {
        location = null;
        problem = null;
        string text = Encoding.ASCII.GetString(datagram);
        string[] lines = text.Split("\r\n");
        if (lines.Length == 0 || !lines[0].StartsWith("HTTP/1.", StringComparison.OrdinalIgnoreCase) || !lines[0].Contains(" 200", StringComparison.Ordinal))
            return false;
        string? locationText = null;
        bool gateway = false;
        foreach (string line in lines.Skip(1))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0) continue;
            string name = line[..colon].Trim();
            string value = line[(colon + 1)..].Trim();
            if (name.Equals("LOCATION", StringComparison.OrdinalIgnoreCase)) locationText = value;
            else if ((name.Equals("ST", StringComparison.OrdinalIgnoreCase) || name.Equals("USN", StringComparison.OrdinalIgnoreCase))
                     && value.Contains("InternetGatewayDevice", StringComparison.OrdinalIgnoreCase)) gateway = true;
        }
        if (!gateway) return false;
        if (locationText is null)
        {
            problem = "no LOCATION header";
            return false;
        }
        if (!Uri.TryCreate(locationText, UriKind.Absolute, out Uri? uri) || uri.Scheme != Uri.UriSchemeHttp)
        {
            problem = $"LOCATION '{Shorten(locationText)}' is not an http URL";
            return false;
        }
        if (!IPAddress.TryParse(uri.Host.Trim('[', ']'), out _))
        {
            // A gateway on the local network names itself by address; a host name would send us through DNS to anywhere.
            problem = $"LOCATION '{Shorten(locationText)}' does not name an IP address";
            return false;
        }
        location = uri;
        return true;
    }

    private static string Shorten(string text) => text.Length <= 80 ? text : text[..77] + "...";
}
