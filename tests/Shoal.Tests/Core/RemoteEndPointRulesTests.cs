using System.Net;
using Shoal.Swarm;

namespace Shoal.Tests.Core;

public sealed class RemoteEndPointRulesTests
{
    [Theory]
    [InlineData("0.0.0.0:6881", "this network")]
    [InlineData("0.255.1.2:6881", "this network")]
    [InlineData("224.0.0.1:6881", "multicast")]
    [InlineData("239.192.152.143:6771", "multicast")]
    [InlineData("255.255.255.255:6881", "broadcast")]
    [InlineData("240.1.2.3:6881", "reserved")]
    [InlineData("10.0.0.1:0", "port 0")]
    [InlineData("[::]:6881", "unspecified")]
    [InlineData("[ff02::1]:6881", "multicast")]
    [InlineData("[::ffff:224.0.0.1]:6881", "multicast")]
    public void AddressesThatCannotBePeersAreRefused(string endPoint, string reason) =>
        Assert.Contains(reason, RemoteEndPointRules.WhyNotRemote(IPEndPoint.Parse(endPoint)));

    [Theory]
    [InlineData("1.2.3.4:6881")]
    [InlineData("127.0.0.1:51413")]
    [InlineData("192.168.1.20:1")]
    [InlineData("223.255.255.254:65535")]
    [InlineData("[2001:db8::1]:6881")]
    [InlineData("[::1]:6881")]
    [InlineData("[::ffff:10.0.0.1]:6881")]
    public void OrdinaryAddressesArePeers(string endPoint) => Assert.Null(RemoteEndPointRules.WhyNotRemote(IPEndPoint.Parse(endPoint)));

    [Fact]
    public void ASessionNeverDialsItsOwnListenAddress()
    {
        var bound = new SessionContext(new SessionOptions { BindAddress = IPAddress.Loopback }) { ListenPort = 7000 };
        Assert.Equal("our own listen address", bound.WhyNotDial(IPEndPoint.Parse("127.0.0.1:7000")));
        Assert.Null(bound.WhyNotDial(IPEndPoint.Parse("127.0.0.1:7001")));
        Assert.Null(bound.WhyNotDial(IPEndPoint.Parse("127.0.0.2:7000"))); // not the address it listens on

        var wildcard = new SessionContext(new SessionOptions { BindAddress = IPAddress.Any }) { ListenPort = 7000 };
        Assert.NotNull(wildcard.WhyNotDial(IPEndPoint.Parse("127.0.0.1:7000")));
        Assert.NotNull(wildcard.WhyNotDial(IPEndPoint.Parse("127.9.9.9:7000")));
        Assert.NotNull(wildcard.WhyNotDial(IPEndPoint.Parse("[::1]:7000")));
        Assert.Null(wildcard.WhyNotDial(IPEndPoint.Parse("192.0.2.1:7000"))); // TEST-NET-1: on no interface
        Assert.Contains("multicast", wildcard.WhyNotDial(IPEndPoint.Parse("224.0.0.1:7001")));
    }
}
