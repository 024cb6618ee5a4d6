using Shoal.Cli;

namespace Shoal.Tests.Dht;

public sealed class DhtCliTests
{
    [Theory]
    [InlineData(new[] { "dht", "get-peers", "zz", "--dht-bootstrap", "127.0.0.1:9", "--timeout", "1" }, 2, "info-hash")]
    [InlineData(new[] { "dht", "get-peers", "0102030405060708091011121314151617181920", "--dht-bootstrap", "nonsense" }, 2, "--dht-bootstrap")]
    [InlineData(new[] { "dht", "ping", "127.0.0.1" }, 2, "port")]
    public async Task BadInputIsOneErrorLine(string[] args, int exitCode, string mention)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = await Program.RunAsync(args, output, error, CancellationToken.None);
        Assert.Equal(exitCode, code);
        string[] lines = error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("shoal: error: ", lines[0], StringComparison.Ordinal);
        Assert.Contains(mention, lines[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task ARunningNodeListensInBothFamiliesAndStatsShowsBothTables()
    {
        string dir = Path.Combine(Path.GetTempPath(), "shoal-dht-cli-" + Guid.NewGuid().ToString("N"));
        try
        {
            var output = new StringWriter();
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            int code = await Program.RunAsync(["dht", "--port", "0", "--data-dir", dir, "--dht-bootstrap", "127.0.0.1:9", "--interval", "1"],
                output, new StringWriter(), stop.Token);
            Assert.Equal(0, code);
            string[] listening = output.ToString().Split('\n').Where(l => l.Contains(" listening on ", StringComparison.Ordinal)).ToArray();
            bool ipv6 = System.Net.Sockets.Socket.OSSupportsIPv6;
            Assert.Equal(ipv6 ? 2 : 1, listening.Length);
            Assert.Contains("0.0.0.0:", listening[0], StringComparison.Ordinal);
            if (ipv6) Assert.Contains("[::]:", listening[1], StringComparison.Ordinal);

            var stats = new StringWriter();
            Assert.Equal(0, await Program.RunAsync(["dht", "stats", "--data-dir", dir], stats, new StringWriter(), CancellationToken.None));
            Assert.Contains("IPv4 node id: ", stats.ToString(), StringComparison.Ordinal);
            if (ipv6) Assert.Contains("IPv6 node id: ", stats.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task StatsWithoutSavedStateFails()
    {
        string dir = Path.Combine(Path.GetTempPath(), "shoal-dht-cli-" + Guid.NewGuid().ToString("N"));
        var error = new StringWriter();
        int code = await Program.RunAsync(["dht", "stats", "--data-dir", dir], new StringWriter(), error, CancellationToken.None);
        Assert.Equal(1, code);
        Assert.Contains("no saved DHT state", error.ToString(), StringComparison.Ordinal);
    }
}
