using System.Net;
using Shoal.Dht;
using Shoal.Metainfo;

namespace Shoal.Tests.Dht;

public sealed class DhtNodeTests
{
    /// <summary>A raw endpoint on the simulated network that records what it receives.</summary>
    private sealed class Probe
    {
        public Probe(SimulatedNetwork network, IPEndPoint address)
        {
            Transport = network.Attach(address);
            Transport.Start((d, s) => Received.Add(d.ToArray()));
        }

        public IDatagramTransport Transport { get; }

        public List<byte[]> Received { get; } = [];
    }

    private static (VirtualTimeProvider Time, SimulatedNetwork Network, DhtNode Node, IPEndPoint Address) OneNode(DhtNodeOptions? options = null)
    {
        var time = new VirtualTimeProvider();
        var network = new SimulatedNetwork(time, new Random(1), TimeSpan.FromMilliseconds(10), TimeSpan.Zero, 0);
        var address = new IPEndPoint(IPAddress.Parse("20.0.0.1"), 6881);
        var node = new DhtNode(options ?? new DhtNodeOptions { BootstrapNodes = [], RandomSeed = 1 }, network.Attach(address), time);
        node.Start([]);
        return (time, network, node, address);
    }

    [Fact]
    public void PacketHandlerNeverThrowsOnFuzzedInput()
    {
        (VirtualTimeProvider time, SimulatedNetwork network, DhtNode node, IPEndPoint address) = OneNode();
        var random = new Random(99);
        var probe = new Probe(network, new IPEndPoint(IPAddress.Parse("30.0.0.1"), 1000));
        byte[][] seeds =
        [
            KrpcCodec.Encode(new KrpcQuery { TransactionId = "aa"u8.ToArray(), Method = KrpcMethod.GetPeers, SenderId = NodeId.CreateRandom(random), Target = NodeId.CreateRandom(random) }),
            KrpcCodec.Encode(new KrpcQuery { TransactionId = "ab"u8.ToArray(), Method = KrpcMethod.AnnouncePeer, SenderId = NodeId.CreateRandom(random), Target = NodeId.CreateRandom(random), Port = 5, Token = new byte[8] }),
            KrpcCodec.Encode(new KrpcResponse { TransactionId = "ac"u8.ToArray(), SenderId = NodeId.CreateRandom(random) }),
        ];
        for (int i = 0; i < 3000; i++)
        {
            byte[] packet = i % 4 == 0 ? KrpcCodecTests.RandomBytes(random) : KrpcCodecTests.Mutate(seeds[random.Next(seeds.Length)], random);
            node.OnDatagram(packet, new IPEndPoint(IPAddress.Parse("30.0.0." + random.Next(1, 250)), random.Next(1, 65536)));
        }
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(0, node.InternalErrors);
    }

    [Fact]
    public void AnswersQueriesAndChecksTokens()
    {
        (VirtualTimeProvider time, SimulatedNetwork network, DhtNode node, IPEndPoint address) = OneNode();
        var random = new Random(2);
        var probe = new Probe(network, new IPEndPoint(IPAddress.Parse("30.0.0.1"), 1000));
        NodeId me = NodeId.CreateRandom(random), hash = NodeId.CreateRandom(random);

        probe.Transport.Send(KrpcCodec.Encode(new KrpcQuery { TransactionId = "g1"u8.ToArray(), Method = KrpcMethod.GetPeers, SenderId = me, Target = hash }), address);
        time.Advance(TimeSpan.FromSeconds(1));
        var answer = Assert.IsType<KrpcResponse>(KrpcCodec.Decode(probe.Received.Single()));
        Assert.Equal(node.Id, answer.SenderId);
        Assert.Equal(probe.Transport.LocalEndPoint, answer.RequesterAddress);
        Assert.False(answer.Token.IsEmpty);

        probe.Transport.Send(KrpcCodec.Encode(new KrpcQuery { TransactionId = "a1"u8.ToArray(), Method = KrpcMethod.AnnouncePeer, SenderId = me, Target = hash, Port = 7000, Token = new byte[8] }), address);
        probe.Transport.Send(KrpcCodec.Encode(new KrpcQuery { TransactionId = "a2"u8.ToArray(), Method = KrpcMethod.AnnouncePeer, SenderId = me, Target = hash, ImpliedPort = true, Token = answer.Token }), address);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(203, Assert.IsType<KrpcError>(KrpcCodec.Decode(probe.Received[1])).Code);
        Assert.IsType<KrpcResponse>(KrpcCodec.Decode(probe.Received[2]));

        probe.Transport.Send(KrpcCodec.Encode(new KrpcQuery { TransactionId = "g2"u8.ToArray(), Method = KrpcMethod.GetPeers, SenderId = me, Target = hash }), address);
        time.Advance(TimeSpan.FromSeconds(1));
        var peers = Assert.IsType<KrpcResponse>(KrpcCodec.Decode(probe.Received[3]));
        Assert.Equal([probe.Transport.LocalEndPoint], peers.Values); // implied_port: the UDP source port
        Assert.Equal(1, node.GetStats().StoredPeers);
    }

    /// <summary>
    /// Fills the node's peer store for <paramref name="hash"/>: <paramref name="count"/> sources (addresses
    /// <paramref name="prefix"/>X.Y) each ask get_peers for a token, then announce port 3000 + i with it.
    /// </summary>
    private static void AnnounceFromManySources(SimulatedNetwork network, VirtualTimeProvider time, IPEndPoint address, NodeId hash,
        Random random, int count, string prefix)
    {
        for (int i = 0; i < count; i++)
        {
            var p = new Probe(network, new IPEndPoint(IPAddress.Parse(prefix + (i / 200) + "." + ((i % 200) + 1)), 2000));
            NodeId id = NodeId.CreateRandom(random);
            p.Transport.Send(KrpcCodec.Encode(new KrpcQuery { TransactionId = "g"u8.ToArray(), Method = KrpcMethod.GetPeers, SenderId = id, Target = hash }), address);
            time.Advance(TimeSpan.FromMilliseconds(50));
            var r = (KrpcResponse)KrpcCodec.Decode(p.Received.Single());
            p.Transport.Send(KrpcCodec.Encode(new KrpcQuery { TransactionId = "a"u8.ToArray(), Method = KrpcMethod.AnnouncePeer, SenderId = id, Target = hash, Port = 3000 + i, Token = r.Token }), address);
        }
    }

    [Fact]
    public void NoReplyIsLargerThanBep32Allows()
    {
        // Any source may get the full budget here: only the 1024-byte cap of BEP 32 bounds the answer.
        (VirtualTimeProvider time, SimulatedNetwork network, DhtNode node, IPEndPoint address) = OneNode(
            new DhtNodeOptions { BootstrapNodes = [], RandomSeed = 1, QueriesPerSecondPerSource = 1e6, QueryBurstPerSource = 1e6, UnverifiedReplyFactor = 1000,
                MaxValuesPerReply = 200 });
        var random = new Random(4);
        NodeId hash = NodeId.CreateRandom(random);
        AnnounceFromManySources(network, time, address, hash, random, 200, "40.1.");
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(200, node.GetStats().StoredPeers); // 200 x 8 bytes of values would not fit

        var asker = new Probe(network, new IPEndPoint(IPAddress.Parse("50.0.0.2"), 6881));
        asker.Transport.Send(KrpcCodec.Encode(new KrpcQuery { TransactionId = "q"u8.ToArray(), Method = KrpcMethod.GetPeers, SenderId = NodeId.CreateRandom(random), Target = hash }), address);
        time.Advance(TimeSpan.FromSeconds(1));
        byte[] reply = asker.Received.Single();
        Assert.InRange(reply.Length, 900, 1024);
        Assert.NotEmpty(((KrpcResponse)KrpcCodec.Decode(reply)).Values);
    }

    [Fact]
    public void UnverifiedSourcesGetBoundedReplies()
    {
        (VirtualTimeProvider time, SimulatedNetwork network, DhtNode node, IPEndPoint address) = OneNode(
            new DhtNodeOptions { BootstrapNodes = [], RandomSeed = 1, QueriesPerSecondPerSource = 1e6, QueryBurstPerSource = 1e6 });
        var random = new Random(3);
        NodeId hash = NodeId.CreateRandom(random);
        AnnounceFromManySources(network, time, address, hash, random, 100, "40.0.");
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(100, node.GetStats().StoredPeers);

        var attacker = new Probe(network, new IPEndPoint(IPAddress.Parse("50.0.0.1"), 53));
        byte[] query = KrpcCodec.Encode(new KrpcQuery { TransactionId = "x"u8.ToArray(), Method = KrpcMethod.GetPeers, SenderId = NodeId.CreateRandom(random), Target = hash });
        attacker.Transport.Send(query, address);
        time.Advance(TimeSpan.FromSeconds(1));
        byte[] reply = attacker.Received.Single();
        Assert.True(reply.Length <= query.Length * 4, $"reply {reply.Length} bytes to a {query.Length}-byte query");
        Assert.NotEmpty(((KrpcResponse)KrpcCodec.Decode(reply)).Values);
    }

    [Fact]
    public void ReadOnlyNodesDoNotAnswerAndAreNotAdded()
    {
        (VirtualTimeProvider time, SimulatedNetwork network, DhtNode node, IPEndPoint address) = OneNode(new DhtNodeOptions { BootstrapNodes = [], RandomSeed = 1, ReadOnly = true });
        var probe = new Probe(network, new IPEndPoint(IPAddress.Parse("30.0.0.1"), 1000));
        probe.Transport.Send(KrpcCodec.Encode(new KrpcQuery { TransactionId = "p"u8.ToArray(), Method = KrpcMethod.Ping, SenderId = NodeId.CreateRandom(new Random(1)) }), address);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Empty(probe.Received);

        (time, network, node, address) = OneNode();
        probe = new Probe(network, new IPEndPoint(IPAddress.Parse("30.0.0.1"), 1000));
        probe.Transport.Send(KrpcCodec.Encode(new KrpcQuery { TransactionId = "p"u8.ToArray(), Method = KrpcMethod.Ping, SenderId = NodeId.CreateRandom(new Random(1)), ReadOnly = true }), address);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Single(probe.Received);
        Assert.Equal(0, node.GetStats().Nodes);
    }

    [Fact]
    public void StateIsSavedAtomicallyAndReloaded()
    {
        string dir = Path.Combine(Path.GetTempPath(), "shoal-dht-" + Guid.NewGuid().ToString("N"));
        try
        {
            var time = new VirtualTimeProvider();
            var network = new SimulatedNetwork(time, new Random(1), TimeSpan.FromMilliseconds(10), TimeSpan.Zero, 0);
            var a = new DhtNode(new DhtNodeOptions { BootstrapNodes = [], RandomSeed = 1, DataDirectory = dir }, network.Attach(new IPEndPoint(IPAddress.Parse("20.0.0.1"), 1)), time);
            var b = new DhtNode(new DhtNodeOptions { BootstrapNodes = [], RandomSeed = 2 }, network.Attach(new IPEndPoint(IPAddress.Parse("20.0.0.2"), 1)), time);
            b.Start([]);
            a.Start([new IPEndPoint(IPAddress.Parse("20.0.0.2"), 1)]);
            time.Advance(TimeSpan.FromSeconds(5));
            NodeId id = a.Id;
            a.Dispose();
            Assert.False(File.Exists(Path.Combine(dir, DhtState.FileName + ".tmp")));
            DhtState state = DhtState.Load(dir)!;
            Assert.Equal(id, state.Id);
            Assert.Contains(state.Nodes, n => n.Id == b.Id);
            var again = new DhtNode(new DhtNodeOptions { BootstrapNodes = [], DataDirectory = dir }, network.Attach(new IPEndPoint(IPAddress.Parse("20.0.0.3"), 1)), time);
            Assert.Equal(id, again.Id);
            again.Dispose(); // releases the folder (issue 21: one running node per state folder)

            File.WriteAllText(Path.Combine(dir, DhtState.FileName), "garbage");
            var messages = new List<string>();
            var fresh = new DhtNode(new DhtNodeOptions { BootstrapNodes = [], DataDirectory = dir, Log = messages.Add }, network.Attach(new IPEndPoint(IPAddress.Parse("20.0.0.4"), 1)), time);
            Assert.NotEqual(id, fresh.Id);
            Assert.Single(messages);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void SlowNodeDoesNotStallALookup()
    {
        var random = new Random(8);
        NodeId target = NodeId.CreateRandom(random);
        var seeds = new List<NodeContact>();
        for (int i = 0; i < 4; i++) seeds.Add(new NodeContact(NodeId.CreateRandom(random), new IPEndPoint(IPAddress.Parse("60.0.0." + (i + 1)), 1)));
        var lookup = new Lookup(target, KrpcMethod.FindNode, seeds, alpha: 2);
        List<IPEndPoint> first = lookup.NextQueries();
        Assert.Equal(2, first.Count);
        Assert.Empty(lookup.NextQueries()); // alpha reached
        lookup.OnSlow(first[0]);
        List<IPEndPoint> more = lookup.NextQueries();
        Assert.Single(more); // the slow query no longer holds a slot
        lookup.OnResponse(first[1], new KrpcResponse { TransactionId = new byte[2], SenderId = NodeId.CreateRandom(random) });
        lookup.OnResponse(more[0], new KrpcResponse { TransactionId = new byte[2], SenderId = NodeId.CreateRandom(random) });
        List<IPEndPoint> last = lookup.NextQueries();
        Assert.Single(last);
        lookup.OnFailure(last[0]);
        Assert.True(lookup.IsFinished); // the slow node is not waited for
        Assert.Equal(4, lookup.QueriesSent);
    }
    [Fact]
    public void AReplyCannotSendALookupToBroadcastMulticastOrPortZero()
    {
        var random = new Random(9);
        NodeId target = NodeId.CreateRandom(random);
        var seed = new NodeContact(NodeId.CreateRandom(random), new IPEndPoint(IPAddress.Parse("60.0.0.1"), 6881));
        var lookup = new Lookup(target, KrpcMethod.FindNode, [seed], alpha: 8);
        IPEndPoint first = Assert.Single(lookup.NextQueries());
        string[] named = ["255.255.255.255:6881", "224.0.0.251:5353", "0.0.0.7:6881", "240.0.0.1:6881", "60.0.0.9:0", "60.0.0.2:6881"];
        lookup.OnResponse(first, new KrpcResponse
        {
            TransactionId = new byte[2],
            SenderId = seed.Id,
            Nodes = [.. named.Select(e => new NodeContact(NodeId.CreateRandom(random), IPEndPoint.Parse(e)))],
        });
        // Only the ordinary address is asked; the others were never candidates.
        Assert.Equal([IPEndPoint.Parse("60.0.0.2:6881")], lookup.NextQueries());
    }
}
