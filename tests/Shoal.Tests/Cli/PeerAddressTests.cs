using System.Net;
using System.Net.Sockets;
using Shoal.Cli;

namespace Shoal.Tests.Cli;

public sealed class PeerAddressTests
{
    [Fact]
    public void Parses_ipv4()
    {
        PeerAddress peer = PeerAddress.Parse("192.168.1.20:6881");
        Assert.Equal("192.168.1.20", peer.Host);
        Assert.Equal(6881, peer.Port);
        Assert.Equal(IPAddress.Parse("192.168.1.20"), peer.Address);
        Assert.Equal("192.168.1.20:6881", peer.ToString());
    }

    [Theory]
    [InlineData("[::1]:6881", "::1")]
    [InlineData("[2001:db8::5]:51413", "2001:db8::5")]
    [InlineData("[::ffff:10.0.0.1]:1", "::ffff:10.0.0.1")]
    public void Parses_bracketed_ipv6(string text, string host)
    {
        PeerAddress peer = PeerAddress.Parse(text);
        Assert.Equal(host, peer.Host);
        Assert.Equal(AddressFamily.InterNetworkV6, peer.Address!.AddressFamily);
        Assert.Equal(text, peer.ToString());
    }

    [Theory]
    [InlineData("localhost:6881", "localhost", 6881)]
    [InlineData("tracker.example.org:65535", "tracker.example.org", 65535)]
    [InlineData("my-box.lan:1", "my-box.lan", 1)]
    public void Parses_host_names_without_resolving(string text, string host, int port)
    {
        PeerAddress peer = PeerAddress.Parse(text);
        Assert.Equal(host, peer.Host);
        Assert.Equal(port, peer.Port);
        Assert.Null(peer.Address);
    }

    [Theory]
    [InlineData("")]
    [InlineData("1.2.3.4")]
    [InlineData("1.2.3.4:")]
    [InlineData(":6881")]
    [InlineData("1.2.3.4:0")]
    [InlineData("1.2.3.4:65536")]
    [InlineData("1.2.3.4:-1")]
    [InlineData("1.2.3.4:+80")]
    [InlineData("1.2.3.4:port")]
    [InlineData("1.2.3:6881")]
    [InlineData("256.1.1.1:6881")]
    [InlineData("::1:6881")]
    [InlineData("[::1]")]
    [InlineData("[::1]6881")]
    [InlineData("[::1:6881")]
    [InlineData("[1.2.3.4]:6881")]
    [InlineData("[not-v6]:6881")]
    [InlineData("bad_host:6881")]
    [InlineData("-bad.example:6881")]
    [InlineData("a..b:6881")]
    [InlineData("host name:6881")]
    public void Rejects_bad_endpoints_with_a_message(string text)
    {
        Assert.False(PeerAddress.TryParse(text, out PeerAddress? peer, out string? error));
        Assert.Null(peer);
        Assert.False(string.IsNullOrWhiteSpace(error));
        Assert.Equal(2, Assert.Throws<CliException>(() => PeerAddress.Parse(text)).ExitCode);
    }

    [Fact]
    public void Unbracketed_ipv6_error_explains_the_brackets()
    {
        Assert.False(PeerAddress.TryParse("fe80::1:6881", out _, out string? error));
        Assert.Contains("brackets", error);
    }

    [Fact]
    public async Task Literal_addresses_resolve_without_dns()
    {
        IPEndPoint endpoint = await PeerAddress.Parse("[::1]:7000").ResolveAsync(CancellationToken.None);
        Assert.Equal(new IPEndPoint(IPAddress.IPv6Loopback, 7000), endpoint);
    }
}
