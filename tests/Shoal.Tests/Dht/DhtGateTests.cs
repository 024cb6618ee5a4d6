using System.Net;
using Shoal.Dht;
using Shoal.Metainfo;

namespace Shoal.Tests.Dht;

/// <summary>Issue 14: no datagram is encoded or sent while a node's lock is held.</summary>
public sealed class DhtGateTests
{
    /// <summary>A transport that checks, at every send, that the sending node is outside its gate.</summary>
    private sealed class GuardedTransport(IDatagramTransport inner) : IDatagramTransport
    {
        public DhtNode? Node { get; set; }

        public int Sends { get; private set; }

        public int SentInsideTheGate { get; private set; }

        public IPEndPoint LocalEndPoint => inner.LocalEndPoint;

        public void Send(ReadOnlySpan<byte> datagram, IPEndPoint destination)
        {
            Sends++;
            if (Node?.IsGateHeldByCurrentThread == true) SentInsideTheGate++;
            inner.Send(datagram, destination);
        }

        public void Start(DatagramReceiver receiver) => inner.Start(receiver);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }

    [Fact]
    public async Task NodesAnswerLookUpAnnounceAndMaintainWithoutSendingInsideTheirGate()
    {
        var time = new VirtualTimeProvider();
        var network = new SimulatedNetwork(time, new Random(1), TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(5), 0.05);
        var nodes = new List<(DhtNode Node, GuardedTransport Transport)>();
        var addresses = new List<IPEndPoint>();
        for (int i = 0; i < 60; i++)
        {
            var address = new IPEndPoint(IPAddress.Parse("20.0." + (i / 200) + "." + ((i % 200) + 1)), 6881);
            var transport = new GuardedTransport(network.Attach(address));
            var node = new DhtNode(new DhtNodeOptions { BootstrapNodes = [], RandomSeed = i, QueriesPerSecondPerSource = 1000, QueryBurstPerSource = 1000 }, transport, time);
            transport.Node = node;
            node.Start(addresses.Count == 0 ? [] : [addresses[0], addresses[^1]]);
            nodes.Add((node, transport));
            addresses.Add(address);
            time.Advance(TimeSpan.FromMilliseconds(100));
        }
        time.Advance(TimeSpan.FromMinutes(20)); // refreshes, pings, saves
        var hash = new InfoHash(Enumerable.Range(7, 20).Select(b => (byte)b).ToArray());
        Task<DhtLookupResult> announce = nodes[5].Node.AnnounceAsync(hash, 6000);
        Assert.True(time.RunUntil(() => announce.IsCompleted, TimeSpan.FromMinutes(1)));
        Task<DhtLookupResult> found = nodes[50].Node.GetPeersAsync(hash);
        Assert.True(time.RunUntil(() => found.IsCompleted, TimeSpan.FromMinutes(1)));
        Assert.Contains(new IPEndPoint(addresses[5].Address, 6000), (await found).Peers);
        Assert.True(nodes.Sum(n => n.Transport.Sends) > 1000);
        Assert.Equal(0, nodes.Sum(n => n.Transport.SentInsideTheGate));
        foreach ((DhtNode node, _) in nodes) node.Dispose();
    }
}
