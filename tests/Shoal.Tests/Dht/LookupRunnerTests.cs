using System.Net;
using Shoal.Dht;

namespace Shoal.Tests.Dht;

/// <summary><see cref="LookupRunner"/> driven through a fake query function: no socket, no clock, no node.</summary>
public sealed class LookupRunnerTests
{
    private sealed class FakeNetwork
    {
        public List<(IPEndPoint To, QuerySpec Spec, IQueryObserver? Observer)> Sent { get; } = [];

        public HashSet<IPEndPoint> Refuse { get; } = [];

        public bool Query(IPEndPoint to, in QuerySpec spec, IQueryObserver? observer)
        {
            if (Refuse.Contains(to)) return false;
            Sent.Add((to, spec, observer));
            return true;
        }
    }

    private static readonly NodeId Target = NodeId.CreateRandom(new Random(1));

    private static List<NodeContact> Nodes(int count, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(i => new NodeContact(NodeId.CreateRandom(random), new IPEndPoint(IPAddress.Parse("30.0.0." + (i + 1)), 6881)))];
    }

    private static (LookupRunner Runner, FakeNetwork Network, TaskCompletionSource<DhtLookupResult> Completion, List<LookupRunner> Finished, DhtGate Gate)
        Create(List<NodeContact> seeds, KrpcMethod method = KrpcMethod.GetPeers, int? announcePort = null)
    {
        var network = new FakeNetwork();
        var gate = new DhtGate();
        var completion = new TaskCompletionSource<DhtLookupResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var finished = new List<LookupRunner>();
        var lookup = new Lookup(Target, method, seeds, alpha: 3);
        var runner = new LookupRunner(lookup, network.Query, new VirtualTimeProvider(), gate, KrpcWant.None, completion, announcePort, false, finished.Add);
        using (gate.Enter()) runner.Start();
        return (runner, network, completion, finished, gate);
    }

    [Fact]
    public async Task ALookupAsksAlphaAtATimeAndAnnouncesToTheClosestThatAnsweredWithTheirTokens()
    {
        List<NodeContact> nodes = Nodes(5, 2);
        (LookupRunner runner, FakeNetwork network, TaskCompletionSource<DhtLookupResult> completion, List<LookupRunner> finished, DhtGate gate) =
            Create(nodes, announcePort: 7000);
        Assert.Equal(3, network.Sent.Count);
        Assert.All(network.Sent, s => Assert.Equal(KrpcMethod.GetPeers, s.Spec.Method));
        var peer = new IPEndPoint(IPAddress.Parse("40.0.0.1"), 5555);
        for (int i = 0; i < network.Sent.Count; i++)
        {
            (IPEndPoint to, _, IQueryObserver? observer) = network.Sent[i];
            if (to.Equals(nodes[^1].EndPoint) || to.Equals(nodes[^2].EndPoint) && i >= 3) continue;
            NodeContact who = nodes.Single(n => n.EndPoint.Equals(to));
            using (gate.Enter())
            {
                observer!.OnResponse(to, new KrpcResponse
                {
                    TransactionId = new byte[2], SenderId = who.Id, Token = new byte[] { (byte)i }, Values = i == 0 ? [peer] : [],
                });
            }
        }
        // Every node was asked; the ones still pending fail.
        foreach ((IPEndPoint to, QuerySpec spec, IQueryObserver? observer) in network.Sent.ToList())
        {
            if (spec.Method == KrpcMethod.GetPeers && !completion.Task.IsCompleted) using (gate.Enter()) observer!.OnFailure(to);
        }
        DhtLookupResult result = await completion.Task;
        Assert.Equal([peer], result.Peers);
        var announces = network.Sent.Where(s => s.Spec.Method == KrpcMethod.AnnouncePeer).ToList();
        Assert.Equal(result.ClosestNodes.Count, announces.Count);
        Assert.Equal(result.AnnouncedTo, announces.Count);
        Assert.All(announces, a => Assert.Equal(7000, a.Spec.Port));
        Assert.All(announces, a => Assert.False(a.Spec.Token.IsEmpty));
        Assert.Equal([runner], finished);
    }

    [Fact]
    public async Task AQueryThatCannotBeSentCountsAsAFailureAndTheLookupStillEnds()
    {
        List<NodeContact> nodes = Nodes(2, 3);
        var network = new FakeNetwork();
        network.Refuse.Add(nodes[0].EndPoint);
        network.Refuse.Add(nodes[1].EndPoint);
        var gate = new DhtGate();
        var completion = new TaskCompletionSource<DhtLookupResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var runner = new LookupRunner(new Lookup(Target, KrpcMethod.FindNode, nodes), network.Query, new VirtualTimeProvider(), gate, KrpcWant.None,
            completion, null, false, _ => { });
        using (gate.Enter()) runner.Start();
        DhtLookupResult result = await completion.Task;
        Assert.Empty(result.ClosestNodes);
        Assert.Equal(2, result.QueriesSent);
    }

    [Fact]
    public async Task CancellationEndsTheLookupOnceAndLaterAnswersAreIgnored()
    {
        (LookupRunner runner, FakeNetwork network, TaskCompletionSource<DhtLookupResult> completion, List<LookupRunner> finished, DhtGate gate) = Create(Nodes(8, 4));
        using var cancel = new CancellationTokenSource();
        runner.AttachCancellation(cancel.Token);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => completion.Task);
        int sent = network.Sent.Count;
        using (gate.Enter()) network.Sent[0].Observer!.OnResponse(network.Sent[0].To, new KrpcResponse { TransactionId = new byte[2], SenderId = NodeId.CreateRandom(new Random(9)), Nodes = Nodes(8, 10) });
        Assert.Equal(sent, network.Sent.Count);
        Assert.Equal([runner], finished);

        (LookupRunner aborted, _, TaskCompletionSource<DhtLookupResult> abortedCompletion, _, DhtGate gate2) = Create(Nodes(3, 5));
        using (gate2.Enter()) aborted.Abort();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => abortedCompletion.Task);

        using var already = new CancellationTokenSource();
        await already.CancelAsync();
        (LookupRunner late, _, TaskCompletionSource<DhtLookupResult> lateCompletion, List<LookupRunner> lateFinished, _) = Create(Nodes(3, 6));
        late.AttachCancellation(already.Token); // cancels at once, on this thread
        Assert.True(lateCompletion.Task.IsCanceled);
        Assert.Single(lateFinished);
    }
}
