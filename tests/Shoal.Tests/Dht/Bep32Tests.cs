using System.Net;
using System.Net.Sockets;
using System.Text;
using Shoal.Dht;
using Shoal.Metainfo;
using Xunit.Abstractions;

namespace Shoal.Tests.Dht;

/// <summary>BEP 32 (IPv6 DHT): "want", per-family answers and lookups, and <see cref="DualStackDht"/>.</summary>
public sealed class Bep32Tests(ITestOutputHelper output)
{
    private static readonly NodeId SpecId = new("abcdefghij0123456789"u8);
    private static readonly NodeId SpecHash = new("mnopqrstuvwxyz123456"u8);

    // ---------------------------------------------------------------- codec

    [Theory]
    [InlineData(KrpcWant.N4, "4:wantl2:n4e")]
    [InlineData(KrpcWant.N6, "4:wantl2:n6e")]
    [InlineData(KrpcWant.N4 | KrpcWant.N6, "4:wantl2:n42:n6e")]
    public void WantIsEncodedAsAListOfFlagsAndRoundTrips(KrpcWant want, string expected)
    {
        foreach (KrpcMethod method in new[] { KrpcMethod.FindNode, KrpcMethod.GetPeers })
        {
            byte[] bytes = KrpcCodec.Encode(new KrpcQuery { TransactionId = "aa"u8.ToArray(), Method = method, SenderId = SpecId, Target = SpecHash, Want = want });
            Assert.Contains(expected, Encoding.Latin1.GetString(bytes), StringComparison.Ordinal);
            Assert.Equal(want, ((KrpcQuery)KrpcCodec.Decode(bytes)).Want);
        }
        byte[] plain = KrpcCodec.Encode(new KrpcQuery { TransactionId = "aa"u8.ToArray(), Method = KrpcMethod.FindNode, SenderId = SpecId, Target = SpecHash });
        Assert.DoesNotContain("want", Encoding.Latin1.GetString(plain), StringComparison.Ordinal);
        byte[] ping = KrpcCodec.Encode(new KrpcQuery { TransactionId = "aa"u8.ToArray(), Method = KrpcMethod.Ping, SenderId = SpecId, Want = want });
        Assert.DoesNotContain("want", Encoding.Latin1.GetString(ping), StringComparison.Ordinal); // only find_node / get_peers carry it
    }

    [Theory]
    [InlineData("4:wantl2:n62:xx3:n44i7ee", KrpcWant.N6)] // unknown strings and non-strings are ignored
    [InlineData("4:wantl2:n42:n62:n4e", KrpcWant.N4 | KrpcWant.N6)]
    [InlineData("4:want2:n6", KrpcWant.None)] // not a list: as if absent
    [InlineData("4:wantle", KrpcWant.None)]
    public void WantIsDecodedLeniently(string want, KrpcWant expected)
    {
        string packet = "d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456" + want + "e1:q9:find_node1:t2:aa1:y1:qe";
        Assert.Equal(expected, ((KrpcQuery)KrpcCodec.Decode(Encoding.Latin1.GetBytes(packet))).Want);
    }

    // ---------------------------------------------------------------- node, simulated network

    private sealed class Probe
    {
        public Probe(SimulatedNetwork network, IPEndPoint address)
        {
            Transport = network.Attach(address);
            Transport.Start((d, s) => Received.Add(d.ToArray()));
        }

        public IDatagramTransport Transport { get; }

        public List<byte[]> Received { get; } = [];

        public KrpcResponse Ask(VirtualTimeProvider time, IPEndPoint to, KrpcMethod method, NodeId target, KrpcWant want)
        {
            int before = Received.Count;
            Transport.Send(KrpcCodec.Encode(new KrpcQuery { TransactionId = "q1"u8.ToArray(), Method = method, SenderId = NodeId.CreateRandom(new Random(before)), Target = target, Want = want }), to);
            time.Advance(TimeSpan.FromSeconds(1));
            Assert.Equal(before + 1, Received.Count);
            return Assert.IsType<KrpcResponse>(KrpcCodec.Decode(Received[^1]));
        }
    }

    private static (VirtualTimeProvider Time, SimulatedNetwork Network) Network()
    {
        var time = new VirtualTimeProvider();
        return (time, new SimulatedNetwork(time, new Random(1), TimeSpan.FromMilliseconds(10), TimeSpan.Zero, 0));
    }

    private static DhtNode StartNode(SimulatedNetwork network, VirtualTimeProvider time, IPEndPoint address, int seed)
    {
        var node = new DhtNode(new DhtNodeOptions { BootstrapNodes = [], RandomSeed = seed }, network.Attach(address), time);
        node.Start([]);
        return node;
    }

    [Theory]
    [InlineData(KrpcMethod.FindNode)]
    [InlineData(KrpcMethod.GetPeers)]
    public void AnIpv4NodeAnswersTheListsItIsAskedFor(KrpcMethod method)
    {
        (VirtualTimeProvider time, SimulatedNetwork network) = Network();
        var address = new IPEndPoint(IPAddress.Parse("20.0.0.1"), 6881);
        DhtNode node = StartNode(network, time, address, 1);
        var probe = new Probe(network, new IPEndPoint(IPAddress.Parse("30.0.0.1"), 1000));
        var v6Contact = new NodeContact(NodeId.CreateRandom(new Random(7)), new IPEndPoint(IPAddress.Parse("2001:db8::7"), 7777));
        NodeId target = NodeId.CreateRandom(new Random(3));

        // No "want" over IPv4: "nodes" only (the probe itself is in the table by now).
        KrpcResponse plain = probe.Ask(time, address, method, target, KrpcWant.None);
        Assert.Contains(plain.Nodes, n => n.EndPoint.Equals(probe.Transport.LocalEndPoint));
        Assert.Empty(plain.Nodes6);

        // n6 from a single-stack IPv4 node: it has no IPv6 table, so neither list.
        KrpcResponse none = probe.Ask(time, address, method, target, KrpcWant.N6);
        Assert.Empty(none.Nodes);
        Assert.Empty(none.Nodes6);

        // With a dual-stack partner: n6 is filled from the partner's table, n4 from ours.
        NodeId? askedFor = null;
        node.OtherFamilyClosest = (t, count) =>
        {
            askedFor = t;
            return [v6Contact];
        };
        KrpcResponse six = probe.Ask(time, address, method, target, KrpcWant.N6);
        Assert.Empty(six.Nodes);
        Assert.Equal([v6Contact], six.Nodes6);
        Assert.Equal(target, askedFor);
        KrpcResponse both = probe.Ask(time, address, method, target, KrpcWant.N4 | KrpcWant.N6);
        Assert.NotEmpty(both.Nodes);
        Assert.Equal([v6Contact], both.Nodes6);
        KrpcResponse four = probe.Ask(time, address, method, target, KrpcWant.N4);
        Assert.NotEmpty(four.Nodes);
        Assert.Empty(four.Nodes6);
        if (method == KrpcMethod.GetPeers) Assert.All([plain, none, six, both, four], r => Assert.False(r.Token.IsEmpty));
        Assert.Equal(0, node.InternalErrors);
    }

    [Fact]
    public void AnIpv6NodeAnswersNodes6AndEighteenByteValues()
    {
        (VirtualTimeProvider time, SimulatedNetwork network) = Network();
        var address = new IPEndPoint(IPAddress.Parse("2001:db8::1"), 6881);
        DhtNode node = StartNode(network, time, address, 1);
        var probe = new Probe(network, new IPEndPoint(IPAddress.Parse("2001:db8::2"), 1000));
        NodeId hash = NodeId.CreateRandom(new Random(4));

        KrpcResponse first = probe.Ask(time, address, KrpcMethod.GetPeers, hash, KrpcWant.None);
        Assert.Empty(first.Nodes);
        Assert.Contains(first.Nodes6, n => n.EndPoint.Equals(probe.Transport.LocalEndPoint));
        Assert.Empty(probe.Ask(time, address, KrpcMethod.FindNode, hash, KrpcWant.N4).Nodes); // no IPv4 table, no partner

        probe.Transport.Send(KrpcCodec.Encode(new KrpcQuery { TransactionId = "an"u8.ToArray(), Method = KrpcMethod.AnnouncePeer, SenderId = NodeId.CreateRandom(new Random(5)), Target = hash, Port = 4321, Token = first.Token }), address);
        time.Advance(TimeSpan.FromSeconds(1));
        probe.Received.Clear();
        KrpcResponse peers = probe.Ask(time, address, KrpcMethod.GetPeers, hash, KrpcWant.N6);
        Assert.Equal([new IPEndPoint(IPAddress.Parse("2001:db8::2"), 4321)], peers.Values);
        // On the wire: one 18-byte compact entry in "values" (BEP 32), not a 6-byte one.
        string raw = Encoding.Latin1.GetString(probe.Received[^1]);
        Assert.Contains("6:valuesl18:", raw, StringComparison.Ordinal);
        Assert.Equal(0, node.InternalErrors);
    }

    [Fact]
    public void LookupsSendWantByFamilyAndHandTheOtherFamilyOver()
    {
        (VirtualTimeProvider time, SimulatedNetwork network) = Network();
        NodeId target = NodeId.CreateRandom(new Random(6));
        var v4Contact = new NodeContact(NodeId.CreateRandom(new Random(8)), new IPEndPoint(IPAddress.Parse("40.0.0.8"), 8));
        var v6Contact = new NodeContact(NodeId.CreateRandom(new Random(9)), new IPEndPoint(IPAddress.Parse("2001:db8::9"), 9));

        foreach ((string me, string peer, KrpcWant expected, bool dual) in new[]
        {
            ("20.0.0.1", "20.0.0.2", KrpcWant.None, false),
            ("2001:db8::1", "2001:db8::2", KrpcWant.N6, false),
            ("20.0.0.1", "20.0.0.2", KrpcWant.N4 | KrpcWant.N6, true),
        })
        {
            var meEp = new IPEndPoint(IPAddress.Parse(me), 6881);
            var peerEp = new IPEndPoint(IPAddress.Parse(peer), 6881);
            var node = new DhtNode(new DhtNodeOptions { BootstrapNodes = [], RandomSeed = 1 }, network.Attach(meEp), time);
            var learned = new List<NodeContact>();
            if (dual)
            {
                node.WantOtherFamily = () => true;
                node.OtherFamilyNodesLearned = learned.AddRange;
            }
            var probe = new Probe(network, peerEp);
            var at4 = new Probe(network, v4Contact.EndPoint);
            var at6 = new Probe(network, v6Contact.EndPoint);
            node.Start([peerEp]);
            time.Advance(TimeSpan.FromMilliseconds(50));
            var query = Assert.IsType<KrpcQuery>(KrpcCodec.Decode(probe.Received.Single()));
            Assert.Equal(KrpcMethod.FindNode, query.Method);
            Assert.Equal(expected, query.Want);

            // The answer carries both lists: the lookup only follows its own family, the partner gets the other one.
            probe.Transport.Send(KrpcCodec.Encode(new KrpcResponse { TransactionId = query.TransactionId, SenderId = NodeId.CreateRandom(new Random(10)), Nodes = [v4Contact], Nodes6 = [v6Contact] }), meEp);
            time.Advance(TimeSpan.FromSeconds(30));
            bool v6 = meEp.AddressFamily == AddressFamily.InterNetworkV6;
            Assert.Equal(0, node.InternalErrors);
            Assert.Equal(v6 ? 0 : 1, at4.Received.Count);
            Assert.Equal(v6 ? 1 : 0, at6.Received.Count);
            Assert.Equal(dual ? [v6Contact] : [], learned);
            foreach (IPEndPoint ep in new[] { meEp, peerEp, v4Contact.EndPoint, v6Contact.EndPoint }) network.Disconnect(ep);
            node.Dispose();
        }
    }

    // ---------------------------------------------------------------- real sockets

    /// <summary>Whether this host can bind and send UDP on [::1]; the reason when it cannot.</summary>
    private static string? Ipv6LoopbackProblem()
    {
        try
        {
            using var a = new Socket(AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp);
            using var b = new Socket(AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp);
            a.Bind(new IPEndPoint(IPAddress.IPv6Loopback, 0));
            b.Bind(new IPEndPoint(IPAddress.IPv6Loopback, 0));
            b.ReceiveTimeout = 2000;
            a.SendTo("x"u8, b.LocalEndPoint!);
            byte[] buffer = new byte[4];
            return b.Receive(buffer) == 1 ? null : "no datagram over [::1]";
        }
        catch (SocketException ex)
        {
            return $"no UDP on [::1]: {ex.SocketErrorCode}";
        }
    }

    [Fact]
    public async Task Ipv6NodesAnnounceAndFindOverRealSocketsOnLoopback()
    {
        if (Ipv6LoopbackProblem() is { } problem)
        {
            output.WriteLine("skipped: " + problem);
            return;
        }
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var nodes = new List<DhtNode>();
        try
        {
            for (int i = 0; i < 8; i++)
            {
                var node = new DhtNode(new DhtNodeOptions
                {
                    Port = 0,
                    BindAddress = IPAddress.IPv6Loopback,
                    RandomSeed = 100 + i,
                    QueriesPerSecondPerSource = 100_000,
                    QueryBurstPerSource = 100_000,
                    BootstrapNodes = nodes.Count == 0 ? [] : [$"[::1]:{nodes[0].LocalEndPoint!.Port}"],
                });
                nodes.Add(node);
                await node.StartAsync(timeout.Token);
                Assert.Equal(AddressFamily.InterNetworkV6, node.Family);
            }
            foreach (DhtNode node in nodes) await node.BootstrapAsync(timeout.Token);
            var hash = new InfoHash(Enumerable.Range(50, 20).Select(b => (byte)b).ToArray());
            DhtLookupResult announce = await nodes[3].AnnounceAsync(hash, 45679, cancellationToken: timeout.Token);
            Assert.True(announce.AnnouncedTo > 0);
            await Task.Delay(200, timeout.Token);
            DhtLookupResult found = await nodes[6].GetPeersAsync(hash, timeout.Token);
            Assert.Contains(new IPEndPoint(IPAddress.IPv6Loopback, 45679), found.Peers);
            Assert.All(found.ClosestNodes, n => Assert.Equal(AddressFamily.InterNetworkV6, n.EndPoint.AddressFamily));
            Assert.All(nodes, n => Assert.Equal(0, n.InternalErrors));
        }
        finally
        {
            foreach (DhtNode node in nodes) await node.DisposeAsync();
        }
    }

    private static DhtNodeOptions LoopbackOptions(int seed, string? dataDirectory, params string[] bootstrap) => new()
    {
        Port = 0,
        BindAddress = IPAddress.Loopback,
        Ipv6BindAddress = IPAddress.IPv6Loopback,
        RandomSeed = seed,
        DataDirectory = dataDirectory,
        QueriesPerSecondPerSource = 100_000,
        QueryBurstPerSource = 100_000,
        BootstrapNodes = bootstrap,
    };

    [Fact]
    public async Task DualStackInstancesAnnounceAndFindInBothFamilies()
    {
        if (Ipv6LoopbackProblem() is { } problem)
        {
            output.WriteLine("skipped: " + problem);
            return;
        }
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        string dir = Path.Combine(Path.GetTempPath(), "shoal-dht6-" + Guid.NewGuid().ToString("N"));
        var all = new List<DualStackDht>();
        try
        {
            var a = new DualStackDht(LoopbackOptions(1, dir));
            all.Add(a);
            await a.StartAsync(timeout.Token);
            int port = a.LocalEndPoint!.Port;
            Assert.Equal(IPAddress.Loopback, a.LocalEndPoint.Address);
            Assert.Equal(new IPEndPoint(IPAddress.IPv6Loopback, port), a.Ipv6Node!.LocalEndPoint); // same port number
            string[] bootstrap = [$"127.0.0.1:{port}", $"[::1]:{port}"];
            var b = new DualStackDht(LoopbackOptions(2, null, bootstrap));
            var c = new DualStackDht(LoopbackOptions(3, null, bootstrap));
            all.Add(b);
            all.Add(c);
            await b.StartAsync(timeout.Token);
            await c.StartAsync(timeout.Token);
            foreach (DualStackDht d in all)
            {
                await d.Ipv4Node!.BootstrapAsync(timeout.Token);
                await d.Ipv6Node!.BootstrapAsync(timeout.Token);
            }

            var hash = new InfoHash(Enumerable.Range(90, 20).Select(x => (byte)x).ToArray());
            DhtLookupResult announce = await b.AnnounceAsync(hash, 45680, cancellationToken: timeout.Token);
            Assert.True(announce.AnnouncedTo >= 2, $"announced to {announce.AnnouncedTo}");
            await Task.Delay(200, timeout.Token);
            DhtLookupResult found = await c.GetPeersAsync(hash, timeout.Token);
            Assert.Contains(new IPEndPoint(IPAddress.Loopback, 45680), found.Peers);
            Assert.Contains(new IPEndPoint(IPAddress.IPv6Loopback, 45680), found.Peers); // announced over IPv6, found as IPv6
            Assert.Equal(found.Peers.Count, found.Peers.Distinct().Count());
            Assert.Contains(found.ClosestNodes, n => n.EndPoint.AddressFamily == AddressFamily.InterNetwork);
            Assert.Contains(found.ClosestNodes, n => n.EndPoint.AddressFamily == AddressFamily.InterNetworkV6);

            DhtStats stats = a.GetStats();
            Assert.Equal(a.Ipv4Node!.GetStats().Nodes + a.Ipv6Node.GetStats().Nodes, stats.Nodes);
            Assert.True(stats.StoredPeers >= 2);

            // PORT-message nodes go to the table of their family; IPv4-mapped IPv6 counts as IPv4.
            c.AddNode(new IPEndPoint(IPAddress.Loopback.MapToIPv6(), b.LocalEndPoint!.Port));
            c.AddNode(new IPEndPoint(IPAddress.IPv6Loopback, b.Ipv6Node!.LocalEndPoint!.Port));

            NodeId id4 = a.Ipv4Node.Id, id6 = a.Ipv6Node.Id;
            await a.DisposeAsync();
            Assert.True(File.Exists(Path.Combine(dir, DhtState.FileName)));
            Assert.True(File.Exists(Path.Combine(dir, DhtState.Ipv6FileName)));
            Assert.All(DhtState.Load(dir)!.Nodes, n => Assert.Equal(AddressFamily.InterNetwork, n.EndPoint.AddressFamily));
            Assert.All(DhtState.Load(dir, DhtState.Ipv6FileName)!.Nodes, n => Assert.Equal(AddressFamily.InterNetworkV6, n.EndPoint.AddressFamily));
            await using var again = new DualStackDht(LoopbackOptions(99, dir));
            await again.StartAsync(timeout.Token);
            Assert.Equal(id4, again.Ipv4Node!.Id); // dht.dat keeps the IPv4 id, as before
            Assert.Equal(id6, again.Ipv6Node!.Id);
            Assert.All(all, d => Assert.Equal(0, (d.Ipv4Node?.InternalErrors ?? 0) + (d.Ipv6Node?.InternalErrors ?? 0)));
        }
        finally
        {
            foreach (DualStackDht d in all) await d.DisposeAsync();
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task AnIpv6AddressThatCannotBindIsSkippedAndNoFamilyIsAnError()
    {
        var log = new List<string>();
        // 2001:db8::/32 is documentation space: no host has it, so the IPv6 bind fails.
        await using (var dht = new DualStackDht(new DhtNodeOptions
        {
            Port = 0,
            BindAddress = IPAddress.Loopback,
            Ipv6BindAddress = IPAddress.Parse("2001:db8::1234"),
            BootstrapNodes = [],
            Log = log.Add,
        }))
        {
            await dht.StartAsync();
            Assert.NotNull(dht.Ipv4Node);
            Assert.Null(dht.Ipv6Node);
            Assert.Equal(IPAddress.Loopback, dht.LocalEndPoint!.Address);
            Assert.Contains(log, m => m.Contains("IPv6 DHT is off", StringComparison.Ordinal));
            dht.AddNode(new IPEndPoint(IPAddress.IPv6Loopback, 1)); // no IPv6 node: ignored, no throw
            Assert.Equal(0, dht.GetStats().PendingQueries);
        }

        await using var none = new DualStackDht(new DhtNodeOptions { Port = 0, BindAddress = IPAddress.Parse("192.0.2.55"), BootstrapNodes = [] });
        await Assert.ThrowsAnyAsync<SocketException>(() => none.StartAsync());
        await Assert.ThrowsAsync<InvalidOperationException>(() => none.GetPeersAsync(new InfoHash(new byte[20])));
    }

    [Fact]
    public void BindAddressesSelectTheFamilies()
    {
        Assert.Throws<ArgumentException>(() => new DualStackDht(new DhtNodeOptions { Ipv6BindAddress = IPAddress.Loopback }));
    }
}
