using System.Net;
using Shoal.Dht;

namespace Shoal.Tests.Dht;

public sealed class RoutingTableTests
{
    private static NodeId IdWithPrefix(NodeId own, int sharedBits, Random random) => own.RandomWithPrefix(sharedBits, random);

    private static NodeContact Contact(NodeId id, int n) => new(id, new IPEndPoint(IPAddress.Parse("10.0." + (n / 250) + "." + ((n % 250) + 1)), 6881));

    [Fact]
    public void OwnBucketSplitsAndFarBucketsDoNot()
    {
        var random = new Random(1);
        var time = new VirtualTimeProvider();
        NodeId own = NodeId.CreateRandom(random);
        var table = new RoutingTable(own, time);
        // Nine nodes in the far half (bit 0 differs): the first split separates them from our half, then the far
        // bucket is full and the ninth is only a replacement.
        for (int i = 0; i < 9; i++) table.Observe(Contact(IdWithPrefix(own, 0, random), i), responded: true, out _);
        Assert.Equal(2, table.BucketCount);
        Assert.Equal(8, table.GetBucket(0).Count);
        Assert.Single(table.GetReplacements(0));
        // Nodes close to us keep splitting our own bucket.
        for (int i = 0; i < 40; i++) table.Observe(Contact(IdWithPrefix(own, 1 + (i % 10), random), 100 + i), responded: true, out _);
        Assert.True(table.BucketCount > 5);
        for (int b = 0; b < table.BucketCount; b++)
        {
            Assert.True(table.GetBucket(b).Count <= RoutingTable.K);
            foreach (RoutingNode n in table.GetBucket(b)) Assert.Equal(b, table.BucketIndexOf(n.Id));
        }
        Assert.Equal(RoutingAddResult.Rejected, table.Observe(Contact(own, 999), true, out _));
    }

    [Fact]
    public void NodesGoFromGoodToQuestionableToBad()
    {
        var random = new Random(2);
        var time = new VirtualTimeProvider();
        var table = new RoutingTable(NodeId.CreateRandom(random), time);
        NodeContact c = Contact(NodeId.CreateRandom(random), 1);
        table.Observe(c, responded: true, out _);
        RoutingNode node = table.Find(c.Id)!;
        Assert.Equal(NodeState.Good, table.StateOf(node));
        time.Advance(TimeSpan.FromMinutes(16));
        Assert.Equal(NodeState.Questionable, table.StateOf(node));
        table.Observe(c, responded: false, out _); // it queried us: responded once and active again
        Assert.Equal(NodeState.Good, table.StateOf(node));
        table.OnFailure(c.Id);
        table.OnFailure(c.Id);
        Assert.Equal(NodeState.Bad, table.StateOf(node));
        table.Observe(c, responded: true, out _);
        Assert.Equal(NodeState.Good, table.StateOf(node));
    }

    [Fact]
    public void FullBucketPingsQuestionableNodeAndReplacesItWhenItFails()
    {
        var random = new Random(3);
        var time = new VirtualTimeProvider();
        NodeId own = NodeId.CreateRandom(random);
        var table = new RoutingTable(own, time);
        var far = new List<NodeContact>();
        for (int i = 0; i < 9; i++) far.Add(Contact(IdWithPrefix(own, 0, random), i));
        for (int i = 0; i < 8; i++) table.Observe(far[i], responded: true, out _);
        table.Observe(Contact(IdWithPrefix(own, 1, random), 50), true, out _); // forces the split
        Assert.Equal(8, table.GetBucket(0).Count);

        // All good: the newcomer waits in the replacement cache, nobody to ping.
        Assert.Equal(RoutingAddResult.ReplacementCached, table.Observe(far[8], responded: true, out RoutingNode? ping));
        Assert.Null(ping);

        // Later the old nodes are questionable: a newcomer triggers a ping of the least recently seen.
        time.Advance(TimeSpan.FromMinutes(20));
        NodeContact newcomer = Contact(IdWithPrefix(own, 0, random), 60);
        Assert.Equal(RoutingAddResult.ReplacementCached, table.Observe(newcomer, responded: true, out ping));
        Assert.NotNull(ping);
        Assert.Contains(table.GetBucket(0), n => n.Id == ping!.Id);

        // The pinged node fails twice: it is replaced by a cached node, not before.
        table.OnFailure(ping!.Id);
        Assert.NotNull(table.Find(ping.Id));
        table.OnFailure(ping.Id);
        Assert.Null(table.Find(ping.Id));
        Assert.Equal(8, table.GetBucket(0).Count);
    }

    [Fact]
    public void CompliantReplacementsArePreferred()
    {
        var random = new Random(4);
        var time = new VirtualTimeProvider();
        NodeId own = NodeId.CreateRandom(random);
        var table = new RoutingTable(own, time);
        for (int i = 0; i < 8; i++) table.Observe(Contact(IdWithPrefix(own, 0, random), i), true, out _);
        table.Observe(Contact(IdWithPrefix(own, 1, random), 50), true, out _);
        // Two candidates with public addresses: one with a random (non-compliant) id, one with a BEP 42 id.
        IPAddress publicIp = IPAddress.Parse("124.31.75.21");
        NodeId secure;
        do secure = NodeId.CreateSecure(publicIp, random); while (own.CommonPrefixLength(secure) != 0);
        NodeId insecure;
        do insecure = NodeId.CreateRandom(random); while (own.CommonPrefixLength(insecure) != 0 || insecure.IsSecureFor(IPAddress.Parse("8.8.8.8")));
        table.Observe(new NodeContact(secure, new IPEndPoint(publicIp, 1)), true, out _);
        table.Observe(new NodeContact(insecure, new IPEndPoint(IPAddress.Parse("8.8.8.8"), 1)), true, out _);
        RoutingNode victim = table.GetBucket(0)[0];
        table.OnFailure(victim.Id);
        table.OnFailure(victim.Id);
        Assert.NotNull(table.Find(secure));
        Assert.Null(table.Find(insecure));

        var strict = new RoutingTable(own, time, enforceSecureIds: true);
        Assert.Equal(RoutingAddResult.Rejected, strict.Observe(new NodeContact(insecure, new IPEndPoint(IPAddress.Parse("8.8.8.8"), 1)), true, out _));
    }

    [Fact]
    public void StaleBucketsAreRefreshedAndClosestIsSorted()
    {
        var random = new Random(5);
        var time = new VirtualTimeProvider();
        NodeId own = NodeId.CreateRandom(random);
        var table = new RoutingTable(own, time);
        for (int i = 0; i < 60; i++) table.Observe(Contact(NodeId.CreateRandom(random), i), true, out _);
        Assert.Empty(table.TakeRefreshTargets(random));
        time.Advance(TimeSpan.FromMinutes(16));
        List<NodeId> targets = table.TakeRefreshTargets(random);
        Assert.Equal(table.BucketCount, targets.Count);
        for (int i = 0; i < targets.Count; i++) Assert.Equal(i, table.BucketIndexOf(targets[i]));
        Assert.Empty(table.TakeRefreshTargets(random));

        NodeId target = NodeId.CreateRandom(random);
        List<NodeContact> closest = table.Closest(target, 8);
        Assert.Equal(8, closest.Count);
        for (int i = 1; i < closest.Count; i++) Assert.True(target.CompareDistance(closest[i - 1].Id, closest[i].Id) < 0);
        foreach (RoutingNode n in table.AllNodes())
        {
            if (!closest.Contains(n.Contact)) Assert.True(target.CompareDistance(closest[^1].Id, n.Id) < 0);
        }
    }
}
