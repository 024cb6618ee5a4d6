using System.Collections.Concurrent;
using System.Net;
using Shoal.PortMapping;
using Shoal.Tests.Interop;
using Xunit.Abstractions;

namespace Shoal.Tests.PortMapping;

/// <summary>
/// The port mapper against a real gateway: Debian's miniupnpd in network namespaces the test creates
/// (<see cref="GatewayLab"/>), over UPnP IGD (SSDP multicast, description, SOAP) and over PCP, with short leases so
/// renewal happens during the test, and removal at the end checked in miniupnpd's own lease file.
/// </summary>
[Collection(InteropCollection.Name)]
public sealed class MiniupnpdGatewayTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [MiniupnpdFact]
    public async Task UpnpMapsTcpAndUdpRenewsTheLeaseAndRemovesTheMappings()
    {
        await using GatewayLab lab = await GatewayLab.StartAsync(output.WriteLine);
        var log = new ConcurrentQueue<string>();
        var learned = new ConcurrentQueue<IPAddress>();
        try
        {
            var mapper = new PortMapper(new PortMappingOptions
            {
                EnableNatPmp = false,
                SocketFactory = lab.CreateSocket,
                DiscoveryTimeout = TimeSpan.FromSeconds(2),
                UpnpLeaseDuration = TimeSpan.FromSeconds(6),
                RetryDelays = [TimeSpan.FromSeconds(1)],
                Log = log.Enqueue,
            });
            await using (mapper)
            {
                mapper.ExternalAddressChanged += learned.Enqueue;
                mapper.Start([new MappingRequest(PortMappingProtocol.Tcp, 6881), new MappingRequest(PortMappingProtocol.Udp, 6881)]);

                await Eventually.TrueAsync(() => mapper.Mappings.Count(m => m.ExternalPort == 6881) == 2, Patience, () => Describe(lab, log));
                Assert.All(mapper.Mappings, m => Assert.Equal("UPnP", m.Method));
                Assert.Equal(GatewayLab.ExternalAddress, mapper.ExternalAddress);
                Assert.Equal([GatewayLab.ExternalAddress], learned.ToArray());
                IReadOnlyList<LeaseLine> leases = await lab.ReadLeasesAsync();
                LeaseLine tcp = Assert.Single(leases, l => l.Protocol == "TCP");
                Assert.Equal((6881, "10.231.7.2", 6881, "Shoal"), (tcp.ExternalPort, tcp.Client, tcp.InternalPort, tcp.Description));
                Assert.Single(leases, l => l.Protocol == "UDP");

                // Renewed at half the lease: the expiry moves on, and the mapping outlives its first lease.
                long firstExpiry = tcp.Expiry;
                await Eventually.TrueAsync(() => lab.ReadLeasesAsync().Result.Any(l => l.Protocol == "TCP" && l.Expiry > firstExpiry), Patience,
                    () => "the lease was never renewed\n" + Describe(lab, log));
                await Task.Delay(TimeSpan.FromSeconds(7));
                Assert.Equal(2, (await lab.ReadLeasesAsync()).Count);
                Assert.Contains(log, l => l.Contains("UPnP renewed TCP 6881", StringComparison.Ordinal));
            }

            Assert.Empty(await lab.ReadLeasesAsync());
            Assert.Contains(log, l => l.Contains("UPnP removed TCP 6881", StringComparison.Ordinal));
            Assert.Contains(log, l => l.Contains("UPnP removed UDP 6881", StringComparison.Ordinal));
        }
        finally
        {
            output.WriteLine(Describe(lab, log));
        }
    }

    [MiniupnpdFact]
    public async Task PcpMapsAtTheGatewayRenewsAndRemoves()
    {
        await using GatewayLab lab = await GatewayLab.StartAsync(output.WriteLine);
        var log = new ConcurrentQueue<string>();
        try
        {
            var mapper = new PortMapper(new PortMappingOptions
            {
                EnableUpnp = false,
                Gateway = GatewayLab.GatewayAddress,
                SocketFactory = lab.CreateSocket,
                NatPmpLifetime = TimeSpan.FromSeconds(6),
                RetryDelays = [TimeSpan.FromSeconds(1)],
                Log = log.Enqueue,
            });
            await using (mapper)
            {
                mapper.Start([new MappingRequest(PortMappingProtocol.Tcp, 7000), new MappingRequest(PortMappingProtocol.Udp, 7001)]);
                await Eventually.TrueAsync(() => mapper.Mappings.Count(m => m.ExternalPort is not null) == 2, Patience, () => Describe(lab, log));
                PortMappingStatus tcp = Assert.Single(mapper.Mappings, m => m.Protocol == PortMappingProtocol.Tcp);
                Assert.Equal("PCP", tcp.Method);
                Assert.Equal(7000, tcp.ExternalPort);
                Assert.Equal(GatewayLab.ExternalAddress, mapper.ExternalAddress);
                Assert.Contains(await lab.ReadLeasesAsync(), l => l is { Protocol: "TCP", ExternalPort: 7000, InternalPort: 7000, Client: "10.231.7.2" });

                DateTimeOffset firstExpiry = tcp.ExpiresAt!.Value;
                await Eventually.TrueAsync(() => mapper.Mappings.Any(m => m.Protocol == PortMappingProtocol.Tcp && m.ExpiresAt > firstExpiry), Patience,
                    () => "the mapping was never renewed\n" + Describe(lab, log));
                Assert.Contains(log, l => l.Contains("PCP renewed TCP 7000", StringComparison.Ordinal));
            }

            Assert.Empty(await lab.ReadLeasesAsync());
            Assert.Contains(log, l => l.Contains("PCP removed TCP 7000", StringComparison.Ordinal));
        }
        finally
        {
            output.WriteLine(Describe(lab, log));
        }
    }

    private static string Describe(GatewayLab lab, IEnumerable<string> log) =>
        "mapper:\n" + string.Join('\n', log) + "\nminiupnpd:\n" + lab.GatewayLog;
}

/// <summary>A fact that needs <see cref="GatewayLab"/>: skipped locally when it cannot run, never skipped in CI.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class MiniupnpdFactAttribute : FactAttribute
{
    /// <summary>Marks the test.</summary>
    public MiniupnpdFactAttribute()
    {
        if (!InteropEnvironment.Current.IsCi && GatewayLab.Problem() is { } problem)
            Skip = $"the namespace gateway cannot run here ({problem}); it runs in CI (CI=true), where this fails instead";
    }
}
