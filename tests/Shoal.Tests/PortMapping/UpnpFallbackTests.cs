using System.Collections.Concurrent;
using System.Net;
using Shoal.PortMapping;

namespace Shoal.Tests.PortMapping;

/// <summary>UPnP cases miniupnpd does not produce, against <see cref="FakeIgd"/> on loopback.</summary>
public sealed class UpnpFallbackTests
{
    [Fact]
    public async Task AGatewayThatKeepsOnlyPermanentLeasesGetsOneAndTheMappingIsDeletedAtTheEnd()
    {
        await using var gateway = new FakeIgd();
        var log = new ConcurrentQueue<string>();
        var mapper = new PortMapper(new PortMappingOptions
        {
            EnableNatPmp = false,
            SsdpEndPoint = gateway.SsdpEndPoint,
            DiscoveryTimeout = TimeSpan.FromSeconds(1),
            UpnpLeaseDuration = TimeSpan.FromHours(1),
            RetryDelays = [],
            Log = log.Enqueue,
        });
        await using (mapper)
        {
            mapper.Start([new MappingRequest(PortMappingProtocol.Tcp, 6881)]);
            await Eventually.TrueAsync(() => mapper.Mappings.Any(m => m.ExternalPort == 6881), TimeSpan.FromSeconds(20), () => string.Join('\n', log));
            PortMappingStatus status = Assert.Single(mapper.Mappings);
            Assert.Null(status.ExpiresAt); // permanent
            Assert.Equal(IPAddress.Parse("203.0.113.9"), mapper.ExternalAddress);
            Assert.Equal(["GetExternalIPAddress", "AddPortMapping TCP 6881 lease 3600 client 127.0.0.1", "AddPortMapping TCP 6881 lease 0 client 127.0.0.1"],
                gateway.Actions.ToArray());
            Assert.Contains(log, l => l.Contains("permanently (the gateway keeps no timed leases)", StringComparison.Ordinal));
        }
        Assert.Equal("DeletePortMapping TCP 6881", gateway.Actions.Last());
    }
}
