using System.Net;
using Shoal.Http;

namespace Shoal.Tests.Http;

/// <summary>The SSRF mitigation's pure parts: which addresses are loopback, local or global, and what each rule refuses.</summary>
public sealed class SsrfRulesTests
{
    [Theory]
    [InlineData("127.0.0.1", AddressScope.Loopback)]
    [InlineData("127.45.6.7", AddressScope.Loopback)]
    [InlineData("0.0.0.0", AddressScope.Loopback)]
    [InlineData("::1", AddressScope.Loopback)]
    [InlineData("::", AddressScope.Loopback)]
    [InlineData("::ffff:127.0.0.1", AddressScope.Loopback)]
    [InlineData("10.1.2.3", AddressScope.Local)]
    [InlineData("172.16.0.1", AddressScope.Local)]
    [InlineData("172.31.255.255", AddressScope.Local)]
    [InlineData("192.168.1.1", AddressScope.Local)]
    [InlineData("169.254.169.254", AddressScope.Local)]
    [InlineData("100.64.0.1", AddressScope.Local)]
    [InlineData("::ffff:192.168.0.1", AddressScope.Local)]
    [InlineData("fe80::1", AddressScope.Local)]
    [InlineData("fd00::1", AddressScope.Local)]
    [InlineData("fc12::1", AddressScope.Local)]
    [InlineData("172.32.0.1", AddressScope.Global)]
    [InlineData("172.15.0.1", AddressScope.Global)]
    [InlineData("100.128.0.1", AddressScope.Global)]
    [InlineData("8.8.8.8", AddressScope.Global)]
    [InlineData("2001:db8::1", AddressScope.Global)]
    [InlineData("::ffff:1.1.1.1", AddressScope.Global)]
    public void AddressesAreClassedByTheirRanges(string address, AddressScope expected)
        => Assert.Equal(expected, AddressClassifier.Standard.Classify(new IPEndPoint(IPAddress.Parse(address), 80)));

    [Theory]
    [InlineData("http://127.0.0.1:9091/transmission/rpc?method=x", AddressScope.Loopback, true)]
    [InlineData("http://192.168.1.1/cgi-bin/admin?reboot=1", AddressScope.Local, true)]
    [InlineData("http://192.168.1.5/files/", AddressScope.Local, false)]
    [InlineData("http://127.0.0.1:8000/x", AddressScope.Loopback, false)]
    [InlineData("http://mirror.example/x?token=1", AddressScope.Global, false)]
    public void AWebSeedOnALocalAddressMayNotHaveAQueryString(string url, AddressScope scope, bool refused)
    {
        string? why = SsrfRules.WhyRefused(HttpRequestPurpose.WebSeed, new Uri(url), scope);
        Assert.Equal(refused, why is not null);
        if (refused) Assert.Contains("query string", why, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://127.0.0.1:9091/transmission/rpc", AddressScope.Loopback, true)]
    [InlineData("http://127.0.0.1:8080/api/v2/app/shutdown", AddressScope.Loopback, true)]
    [InlineData("http://127.0.0.1:8080/announce.php", AddressScope.Loopback, true)]
    [InlineData("http://127.0.0.1:6969/announce", AddressScope.Loopback, false)]
    [InlineData("http://127.0.0.1:6969/x/announce?passkey=1", AddressScope.Loopback, false)]
    [InlineData("http://127.0.0.1:6969/scrape", AddressScope.Loopback, false)]
    [InlineData("http://192.168.1.2/tracker.php", AddressScope.Local, false)]
    [InlineData("http://tracker.example/a.php?x=1", AddressScope.Global, false)]
    public void ATrackerOnLoopbackMustEndInAnnounce(string url, AddressScope scope, bool refused)
    {
        string? why = SsrfRules.WhyRefused(HttpRequestPurpose.Tracker, new Uri(url), scope);
        Assert.Equal(refused, why is not null);
        if (refused) Assert.Contains("/announce", why, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(AddressScope.Global, AddressScope.Local, true)]
    [InlineData(AddressScope.Global, AddressScope.Loopback, true)]
    [InlineData(AddressScope.Local, AddressScope.Loopback, true)]
    [InlineData(AddressScope.Global, AddressScope.Global, false)]
    [InlineData(AddressScope.Local, AddressScope.Local, false)]
    [InlineData(AddressScope.Local, AddressScope.Global, false)]
    [InlineData(AddressScope.Loopback, AddressScope.Loopback, false)]
    [InlineData(AddressScope.Loopback, AddressScope.Global, false)]
    public void ARedirectNeverLeadsCloserToThisMachine(AddressScope from, AddressScope to, bool refused)
        => Assert.Equal(refused, SsrfRules.WhyRefusedRedirect(from, to, new Uri("http://10.0.0.1/x")) is not null);
}
