using System.Net;
using Shoal.Dht;
using Shoal.Metainfo;

namespace Shoal.Tests.Dht;

/// <summary>50 real nodes on 127.0.0.1 with real UDP sockets: one announces, another finds it.</summary>
public sealed class DhtLoopbackTests
{
    [Fact]
    public async Task AnnounceThenGetPeersOverRealSockets()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var nodes = new List<DhtNode>();
        try
        {
            for (int i = 0; i < 50; i++)
            {
                var options = new DhtNodeOptions
                {
                    Port = 0,
                    BindAddress = IPAddress.Loopback,
                    RandomSeed = i,
                    // Everyone shares 127.0.0.1: lift the per-address rate limit.
                    QueriesPerSecondPerSource = 100_000,
                    QueryBurstPerSource = 100_000,
                    BootstrapNodes = nodes.Count == 0 ? [] : [$"127.0.0.1:{nodes[i / 2].LocalEndPoint!.Port}", $"127.0.0.1:{nodes[0].LocalEndPoint!.Port}"],
                };
                var node = new DhtNode(options);
                nodes.Add(node);
                await node.StartAsync(timeout.Token);
            }
            foreach (DhtNode node in nodes) await node.BootstrapAsync(timeout.Token);

            var hash = new InfoHash(Enumerable.Range(1, 20).Select(b => (byte)b).ToArray());
            DhtLookupResult announce = await nodes[7].AnnounceAsync(hash, 45678, cancellationToken: timeout.Token);
            Assert.True(announce.AnnouncedTo > 0);
            await Task.Delay(200, timeout.Token); // the announce_peer datagrams are fire-and-forget

            DhtLookupResult found = await nodes[42].GetPeersAsync(hash, timeout.Token);
            Assert.Contains(new IPEndPoint(IPAddress.Loopback, 45678), found.Peers);
            Assert.All(nodes, n => Assert.Equal(0, n.InternalErrors));
        }
        finally
        {
            foreach (DhtNode node in nodes) await node.DisposeAsync();
        }
    }
}
