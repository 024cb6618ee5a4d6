using System.Globalization;

namespace Shoal.Tests.Interop;

/// <summary>Starts the long-running shoal servers (<c>shoal tracker</c>, <c>shoal dht</c>) on 127.0.0.1 and reads where they listen.</summary>
public static class ShoalServers
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// A DHT bootstrap node must not reach the public routers (the default); this loopback discard port
    /// answers nothing, so the node only learns the nodes that contact it.
    /// </summary>
    private const string NowhereBootstrap = "127.0.0.1:9";

    /// <summary>
    /// Starts <c>shoal tracker</c> on free HTTP and UDP ports and returns it with its two announce URLs
    /// (from the <c>http: URL</c> and <c>udp: URL</c> lines it prints).
    /// </summary>
    public static async Task<(ChildProcess Tracker, string HttpUrl, string UdpUrl)> StartTrackerAsync()
    {
        var tracker = ShoalCli.Start("tracker", "--bind", "127.0.0.1", "--http-port", "0", "--udp-port", "0");
        try
        {
            var http = await tracker.WaitForLineAsync(l => l.StartsWith("http: ", StringComparison.Ordinal), StartTimeout, "shoal tracker http line").ConfigureAwait(false);
            var udp = await tracker.WaitForLineAsync(l => l.StartsWith("udp: ", StringComparison.Ordinal), StartTimeout, "shoal tracker udp line").ConfigureAwait(false);
            return (tracker, http["http: ".Length..].Trim(), udp["udp: ".Length..].Trim());
        }
        catch
        {
            tracker.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Starts a standalone <c>shoal dht</c> node on 127.0.0.1 (free UDP port, state in <paramref name="dataDir"/>)
    /// and returns it with its <c>127.0.0.1:PORT</c>, read from the <c>dht node ID listening on ADDRESS</c> line.
    /// </summary>
    public static async Task<(ChildProcess Node, string EndPoint)> StartDhtNodeAsync(string dataDir)
    {
        var node = ShoalCli.Start("dht", "--port", "0", "--bind", "127.0.0.1", "--data-dir", dataDir,
            "--dht-bootstrap", NowhereBootstrap, "--interval", "2");
        try
        {
            var line = await node.WaitForLineAsync(l => l.Contains(" listening on ", StringComparison.Ordinal), StartTimeout, "shoal dht listening line").ConfigureAwait(false);
            var endPoint = line[(line.LastIndexOf(' ') + 1)..].Trim();
            var port = int.Parse(endPoint[(endPoint.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture);
            return (node, "127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture));
        }
        catch
        {
            node.Dispose();
            throw;
        }
    }
}
