using System.Net;
using Shoal.Dht;

namespace Shoal.Tests.Dht;

public sealed class KrpcClientTests
{
    private static readonly IPEndPoint Me = new(IPAddress.Parse("20.0.0.1"), 6881);
    private static readonly IPEndPoint Dead = new(IPAddress.Parse("20.0.0.2"), 6881);
    private static readonly IPEndPoint Live = new(IPAddress.Parse("20.0.0.3"), 6881);

    /// <summary>Records what the client sends.</summary>
    private sealed class RecordingTransport : IDatagramTransport
    {
        public List<(KrpcQuery Query, IPEndPoint To)> Sent { get; } = [];

        public IPEndPoint LocalEndPoint => Me;

        public void Send(ReadOnlySpan<byte> datagram, IPEndPoint destination) => Sent.Add(((KrpcQuery)KrpcCodec.Decode(datagram.ToArray()), destination));

        public void Start(DatagramReceiver receiver)
        {
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>Records what happens to queries, with the virtual time it happened at.</summary>
    private sealed class Observer(VirtualTimeProvider time, bool slowNotice) : IQueryObserver
    {
        public List<(string What, IPEndPoint Who, TimeSpan At)> Events { get; } = [];

        public bool WantsSlowNotice => slowNotice;

        private TimeSpan Now => time.GetUtcNow() - Start;

        public DateTimeOffset Start { get; } = time.GetUtcNow();

        public void OnResponse(IPEndPoint from, KrpcResponse response) => Events.Add(("response", from, Now));

        public void OnSlow(IPEndPoint to) => Events.Add(("slow", to, Now));

        public void OnFailure(IPEndPoint to) => Events.Add(("failure", to, Now));
    }

    private static (VirtualTimeProvider Time, DhtGate Gate, RecordingTransport Transport, KrpcClient Client, List<IPEndPoint> TimedOut) Create(DhtNodeOptions? options = null, int seed = 1)
    {
        var time = new VirtualTimeProvider();
        var transport = new RecordingTransport();
        var gate = new DhtGate { Transport = transport };
        var timedOut = new List<IPEndPoint>();
        var client = new KrpcClient(gate, options ?? new DhtNodeOptions(), time, new Random(seed), NodeId.CreateRandom(new Random(99)))
        {
            TimedOut = timedOut.Add,
        };
        return (time, gate, transport, client, timedOut);
    }

    private static bool Send(DhtGate gate, KrpcClient client, IPEndPoint to, IQueryObserver? observer)
    {
        using DhtGate.Scope scope = gate.Enter();
        return client.Send(to, QuerySpec.Ping, observer);
    }

    private static void Answer(DhtGate gate, KrpcClient client, KrpcQuery query, IPEndPoint from)
    {
        using DhtGate.Scope scope = gate.Enter();
        if (client.Take(query.TransactionId.Span, from) is { } pending)
        {
            client.Succeed(pending, new KrpcResponse { TransactionId = query.TransactionId, SenderId = NodeId.CreateRandom(new Random(5)) });
        }
    }

    [Fact]
    public void AQueryGoesSlowAtTheSoftTimeoutAndFailsAtTheHardOne()
    {
        (VirtualTimeProvider time, DhtGate gate, RecordingTransport transport, KrpcClient client, List<IPEndPoint> timedOut) = Create();
        var lookup = new Observer(time, slowNotice: true);
        var ping = new Observer(time, slowNotice: false);
        Assert.True(Send(gate, client, Dead, lookup));
        Assert.True(Send(gate, client, Live, ping));
        Assert.Equal(2, transport.Sent.Count); // sent once the gate was left
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal([("slow", Dead, TimeSpan.FromSeconds(1.5)), ("failure", Dead, TimeSpan.FromSeconds(4))], lookup.Events);
        Assert.Equal([("failure", Live, TimeSpan.FromSeconds(4))], ping.Events);
        Assert.Equal(2, client.Timeouts);
        Assert.Equal([Dead, Live], timedOut.OrderBy(e => e.ToString()));
        Assert.Equal(0, client.PendingCount);
    }

    [Fact]
    public void AnAnswerMustComeFromTheAddressAskedWithItsTransactionId()
    {
        (VirtualTimeProvider time, DhtGate gate, RecordingTransport transport, KrpcClient client, _) = Create();
        var observer = new Observer(time, slowNotice: true);
        Send(gate, client, Live, observer);
        KrpcQuery query = transport.Sent.Single().Query;
        time.Advance(TimeSpan.FromMilliseconds(80));
        Answer(gate, client, query, Dead); // spoofed: another address
        using (gate.Enter()) Assert.Null(client.Take("zz"u8, Live)); // unknown transaction
        Assert.Empty(observer.Events);
        Answer(gate, client, query, Live);
        Answer(gate, client, query, Live); // a duplicate finds nothing pending
        Assert.Equal([("response", Live, TimeSpan.FromMilliseconds(80))], observer.Events);
        Assert.Equal(TimeSpan.FromMilliseconds(80), client.Rtt.Smoothed);
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Single(observer.Events); // no timeout after the answer
    }

    [Fact]
    public void TheFirstRoundTripShortensTheSoftTimeoutOfQueriesSentBlind()
    {
        (VirtualTimeProvider time, DhtGate gate, RecordingTransport transport, KrpcClient client, _) = Create();
        var observer = new Observer(time, slowNotice: true);
        Send(gate, client, Dead, observer); // soft timeout unknown: 1.5 s
        time.Advance(TimeSpan.FromMilliseconds(10));
        Send(gate, client, Live, observer);
        time.Advance(TimeSpan.FromMilliseconds(50));
        Answer(gate, client, transport.Sent[1].Query, Live); // a 50 ms round trip: soft timeout 50 + 4 x 25 = 150 ms
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Contains(("slow", Dead, TimeSpan.FromMilliseconds(150)), observer.Events);
    }

    [Fact]
    public void PendingQueriesAreBoundedAndTransactionIdsUnique()
    {
        (VirtualTimeProvider time, DhtGate gate, RecordingTransport transport, KrpcClient client, _) = Create(new DhtNodeOptions { MaxPendingQueries = 100 });
        for (int i = 0; i < 100; i++) Assert.True(Send(gate, client, Live, null));
        Assert.False(Send(gate, client, Live, null)); // the 101st fails at once
        Assert.Equal(100, transport.Sent.Select(s => Convert.ToHexString(s.Query.TransactionId.Span)).Distinct().Count());
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.True(Send(gate, client, Live, null)); // room again once they timed out

        (_, DhtGate gate2, RecordingTransport transport2, KrpcClient client2, _) = Create(new DhtNodeOptions { MaxPendingQueries = 100 });
        for (int i = 0; i < 5; i++) Send(gate2, client2, Live, null);
        Assert.Equal(transport.Sent.Take(5).Select(s => s.Query.TransactionId.ToArray()), transport2.Sent.Select(s => s.Query.TransactionId.ToArray())); // same seed, same ids
    }

    [Fact]
    public void AClosedClientSendsNothingAndCallsNobody()
    {
        (VirtualTimeProvider time, DhtGate gate, RecordingTransport transport, KrpcClient client, _) = Create();
        var observer = new Observer(time, slowNotice: true);
        Send(gate, client, Dead, observer);
        using (gate.Enter()) client.Close();
        Assert.False(Send(gate, client, Dead, observer));
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Empty(observer.Events);
        Assert.Single(transport.Sent);
    }
}
