using System.Net;
using System.Net.Sockets;
using Shoal.Dht;

namespace Shoal.Tests.Dht;

public sealed class BootstrapResolverTests
{
    [Theory]
    [InlineData("router.example:6881", true, "router.example", 6881)]
    [InlineData("10.0.0.1:1", true, "10.0.0.1", 1)]
    [InlineData("[2001:db8::1]:6881", true, "2001:db8::1", 6881)]
    [InlineData("host", false, "", 0)]
    [InlineData(":6881", false, "", 0)]
    [InlineData("host:0", false, "host", 0)]
    [InlineData("host:65536", false, "host", 0)]
    [InlineData("host:-1", false, "host", 0)]
    public void HostPortIsParsedStrictly(string text, bool ok, string host, int port)
    {
        Assert.Equal(ok, BootstrapResolver.TryParseHostPort(text, out string h, out int p));
        if (!ok) return;
        Assert.Equal(host, h);
        Assert.Equal(port, p);
    }

    [Fact]
    public async Task LiteralsResolveBadEntriesAreLoggedAndTheFamilyAndCapHold()
    {
        var log = new List<string>();
        List<IPEndPoint> v4 = await BootstrapResolver.ResolveAsync(["10.0.0.1:1", "nonsense", "[2001:db8::1]:2", "10.0.0.1:1"], AddressFamily.InterNetwork, log.Add);
        Assert.Equal([new IPEndPoint(IPAddress.Parse("10.0.0.1"), 1)], v4);
        Assert.Single(log, m => m.Contains("nonsense", StringComparison.Ordinal));
        List<IPEndPoint> v6 = await BootstrapResolver.ResolveAsync(["10.0.0.1:1", "[2001:db8::1]:2"], AddressFamily.InterNetworkV6, null);
        Assert.Equal([new IPEndPoint(IPAddress.Parse("2001:db8::1"), 2)], v6);

        string[] many = [.. Enumerable.Range(1, 40).Select(i => $"10.0.1.{i}:6881")];
        Assert.Equal(BootstrapResolver.MaxEndPoints, (await BootstrapResolver.ResolveAsync(many, null, null)).Count);
    }
}
