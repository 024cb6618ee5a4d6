using System.Collections.Concurrent;
using System.Net;
using Shoal.PortMapping;

namespace Shoal.Tests.PortMapping;

/// <summary>NAT-PMP and PCP against <see cref="NatPmpResponder"/>, a gateway written in the tests, on loopback.</summary>
public sealed class NatPmpTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private static readonly IPAddress External = IPAddress.Parse("203.0.113.50");

    private static PortMapper Mapper(NatPmpResponder gateway, ConcurrentQueue<string> log, TimeSpan? lifetime = null, IReadOnlyList<TimeSpan>? retries = null) => new(new PortMappingOptions
    {
        EnableUpnp = false,
        Gateway = gateway.Address,
        NatPmpLifetime = lifetime ?? TimeSpan.FromSeconds(2),
        RetryDelays = retries ?? [TimeSpan.FromMilliseconds(200)],
        Log = log.Enqueue,
    });

    private static readonly MappingRequest[] Ports = [new(PortMappingProtocol.Tcp, 6881), new(PortMappingProtocol.Udp, 6881)];

    [Fact]
    public async Task ANatPmpOnlyGatewayIsSpokenToInNatPmpAfterItRefusesPcp()
    {
        await using var gateway = new NatPmpResponder(speaksPcp: false, External);
        var log = new ConcurrentQueue<string>();
        var learned = new ConcurrentQueue<IPAddress>();
        PortMapper mapper = Mapper(gateway, log);
        await using (mapper)
        {
            mapper.ExternalAddressChanged += learned.Enqueue;
            mapper.Start(Ports);
            await Eventually.TrueAsync(() => mapper.Mappings.Count(m => m.ExternalPort is not null) == 2, Patience, () => string.Join('\n', log));

            PortMappingStatus tcp = Assert.Single(mapper.Mappings, m => m.Protocol == PortMappingProtocol.Tcp);
            Assert.Equal(("NAT-PMP", 16881, External), (tcp.Method, tcp.ExternalPort, tcp.ExternalAddress)); // the port the gateway granted
            Assert.Equal([External], learned.ToArray());
            Assert.Equal("PCP TCP 6881 lifetime 2", gateway.Requests.First()); // PCP first, then never again
            Assert.Single(gateway.Requests, r => r.StartsWith("PCP", StringComparison.Ordinal));

            // Renewal at half the 2 s lifetime asks for the port granted before.
            await Eventually.TrueAsync(() => gateway.Requests.Count(r => r == "NAT-PMP TCP 6881 lifetime 2") >= 3, Patience, () => string.Join('\n', log));
            Assert.Equal(16881, gateway.Table[("TCP", 6881)]);
        }
        Assert.Empty(gateway.Table);
        Assert.Contains("NAT-PMP TCP 6881 lifetime 0", gateway.Requests);
        Assert.Contains("NAT-PMP UDP 6881 lifetime 0", gateway.Requests);
        Assert.Contains(log, l => l.Contains("NAT-PMP removed UDP 6881", StringComparison.Ordinal));
    }

    [Fact]
    public async Task APcpGatewayKeepsEachMappingsNonceAcrossRenewalAndRemoval()
    {
        await using var gateway = new NatPmpResponder(speaksPcp: true, External);
        var log = new ConcurrentQueue<string>();
        PortMapper mapper = Mapper(gateway, log);
        await using (mapper)
        {
            mapper.Start(Ports);
            await Eventually.TrueAsync(() => gateway.Requests.Count(r => r == "PCP UDP 6881 lifetime 2") >= 2, Patience, () => string.Join('\n', log));
            Assert.All(mapper.Mappings, m => Assert.Equal(("PCP", 6881, External), (m.Method, m.ExternalPort, m.ExternalAddress)));
            Assert.DoesNotContain(gateway.Requests, r => r.StartsWith("NAT-PMP", StringComparison.Ordinal));
            Assert.Equal(External, mapper.ExternalAddress);
        }
        // The responder removes a PCP mapping only when the deletion carries the nonce that created it.
        Assert.Empty(gateway.Table);
    }

    [Fact]
    public async Task ASilentGatewayIsRetriedABoundedNumberOfTimesThenLeftAlone()
    {
        await using var gateway = new NatPmpResponder(speaksPcp: true, External, silent: true);
        var log = new ConcurrentQueue<string>();
        PortMapper mapper = Mapper(gateway, log, retries: [TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(100)]);
        await using (mapper)
        {
            mapper.Start([new MappingRequest(PortMappingProtocol.Tcp, 6881)]);
            await Eventually.TrueAsync(() => log.Any(l => l.Contains("gave up after 3 attempts", StringComparison.Ordinal)), TimeSpan.FromSeconds(40),
                () => string.Join('\n', log));
            // Three attempts of four transmissions each, and nothing after giving up.
            int sent = gateway.Requests.Count;
            Assert.Equal(12, sent);
            await Task.Delay(500);
            Assert.Equal(sent, gateway.Requests.Count);
            Assert.Contains(log, l => l.Contains($"{gateway.Address} did not answer a PCP MAP request", StringComparison.Ordinal));
            PortMappingStatus status = Assert.Single(mapper.Mappings);
            Assert.Null(status.ExternalPort);
            Assert.NotNull(status.Error);
        }
    }

    [Fact]
    public async Task AGatewayThatRefusesSaysWhyInTheStatusAndTheLog()
    {
        await using var gateway = new NatPmpResponder(speaksPcp: true, External, pcpError: 2);
        var log = new ConcurrentQueue<string>();
        PortMapper mapper = Mapper(gateway, log, retries: []);
        await using (mapper)
        {
            mapper.Start([new MappingRequest(PortMappingProtocol.Tcp, 6881)]);
            await Eventually.TrueAsync(() => mapper.Mappings.Count == 1, Patience, () => string.Join('\n', log));
            Assert.Equal("PCP error 2 (NOT_AUTHORIZED)", Assert.Single(mapper.Mappings).Error);
            await Eventually.TrueAsync(() => log.Any(l => l.Contains("gave up after 1 attempts: PCP error 2 (NOT_AUTHORIZED)", StringComparison.Ordinal)),
                Patience, () => string.Join('\n', log));
        }
    }

    [Fact]
    public async Task StartReturnsAtOnceEvenWhenNoGatewayAnswers()
    {
        await using var gateway = new NatPmpResponder(speaksPcp: true, External, silent: true);
        var log = new ConcurrentQueue<string>();
        await using PortMapper mapper = Mapper(gateway, log, retries: [TimeSpan.FromMinutes(10)]);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        mapper.Start(Ports);
        // Not a speed target: waiting for this gateway would take at least 3.75 s of retransmissions.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"Start took {clock.Elapsed}");
        Assert.Null(mapper.ExternalAddress);
    }
}
