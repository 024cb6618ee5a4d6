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
    public async Task StatsWithoutSavedStateFails()
    {
        string dir = Path.Combine(Path.GetTempPath(), "shoal-dht-cli-" + Guid.NewGuid().ToString("N"));
        var error = new StringWriter();
        int code = await Program.RunAsync(["dht", "stats", "--data-dir", dir], new StringWriter(), error, CancellationToken.None);
        Assert.Equal(1, code);
        Assert.Contains("no saved DHT state", error.ToString(), StringComparison.Ordinal);
    }
}
