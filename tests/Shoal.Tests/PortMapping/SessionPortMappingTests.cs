using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net;
using Shoal.Discovery;
using Shoal.Metainfo;
using Shoal.PortMapping;
using Shoal.Swarm;
using Shoal.Transport;
using Shoal.Wire;

namespace Shoal.Tests.PortMapping;

/// <summary>A session with port mapping on, against the NAT-PMP responder: what it learns and what it tells peers.</summary>
public sealed class SessionPortMappingTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private static readonly IPAddress External = IPAddress.Parse("203.0.113.77");
    private readonly string _root = Directory.CreateTempSubdirectory("shoal-portmap-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task TheSessionLearnsItsExternalAddressReportsItToPeersAndUnmapsAtTheEnd()
    {
        await using var gateway = new NatPmpResponder(speaksPcp: false, External);
        var log = new ConcurrentQueue<string>();
        var learned = new ConcurrentQueue<IPAddress>();
        string file = Path.Combine(_root, "data.bin");
        await File.WriteAllBytesAsync(file, new byte[100_000]);
        Torrent torrent = await TorrentCreator.CreateAsync(file, new TorrentCreationOptions { PieceLength = 16 * 1024 });

        // Bound to every address (a loopback-bound session maps nothing), reached over 127.0.0.1 all the same.
        ShoalSession session = await ShoalSession.StartAsync(new SessionOptions
        {
            BindAddress = IPAddress.Any,
            ListenPort = 0,
            EnableDht = false,
            EnableLocalDiscovery = false,
            PortMapping = new PortMappingOptions { EnableUpnp = false, Gateway = gateway.Address, RetryDelays = [], Log = log.Enqueue },
            Log = log.Enqueue,
        });
        try
        {
            session.ExternalAddressChanged += learned.Enqueue;
            int port = session.ListenEndPoint.Port;
            await Eventually.TrueAsync(() => session.PortMappings.Any(m => m.ExternalPort is not null), Patience, () => string.Join('\n', log));
            // TCP and, for uTP (and the DHT when on), UDP at the same number: both forwarded.
            await Eventually.TrueAsync(() => session.PortMappings.Count(m => m.ExternalPort is not null) == 2, Patience, () => string.Join('\n', log));
            Assert.Equal([(PortMappingProtocol.Tcp, port, port + 10000), (PortMappingProtocol.Udp, port, port + 10000)],
                session.PortMappings.Select(m => (m.Protocol, m.InternalPort, m.ExternalPort)).OrderBy(m => m.Protocol));
            Assert.Equal(External, session.ExternalAddress);

            await session.AddTorrentAsync(torrent, new TorrentOptions { DownloadDirectory = _root });
            ExtensionHandshake theirs = await Shoal.Tests.Swarm.ExtensionHandshakeProbe.ReadAsync(new IPEndPoint(IPAddress.Loopback, port), torrent.InfoHash);
            Assert.Equal(External, theirs.Ipv4);
            Assert.True(theirs.PrefersEncryption);
            Assert.Equal(port, theirs.ListenPort);
            Assert.Equal(IPAddress.Loopback, theirs.YourIp);
        }
        finally
        {
            await session.DisposeAsync();
        }
        Assert.Empty(gateway.Table);
        Assert.Contains($"NAT-PMP TCP {gateway.Requests.First(r => r.StartsWith("NAT-PMP TCP", StringComparison.Ordinal)).Split(' ')[2]} lifetime 0", gateway.Requests);
    }

    [Fact]
    public async Task ALoopbackSessionDoesNotAskAnyGateway()
    {
        await using var gateway = new NatPmpResponder(speaksPcp: true, External);
        var log = new ConcurrentQueue<string>();
        await using ShoalSession session = await ShoalSession.StartAsync(new SessionOptions
        {
            BindAddress = IPAddress.Loopback,
            ListenPort = 0,
            EnableDht = false,
            EnableLocalDiscovery = false,
            PortMapping = new PortMappingOptions { EnableUpnp = false, Gateway = gateway.Address },
            Log = log.Enqueue,
        });
        await Task.Delay(500);
        Assert.Empty(gateway.Requests);
        Assert.Empty(session.PortMappings);
        Assert.Contains(log, l => l.Contains("port mapping is off: the session listens on 127.0.0.1", StringComparison.Ordinal));
    }
}
