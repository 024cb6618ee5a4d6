using System.Buffers;
using System.Net;
using System.Net.Sockets;
using Shoal.Dht;

namespace Shoal.Tests.Dht;

public sealed class ReplyTrimmerTests
{
    private static readonly IPEndPoint Asker = new(IPAddress.Parse("50.0.0.1"), 6881);

    private static KrpcResponse Response(Random random, int values, int nodes, int nodes6, bool v6Values = false) => new()
    {
        TransactionId = "aa"u8.ToArray(),
        SenderId = NodeId.CreateRandom(random),
        Token = new byte[8],
        Values = [.. Enumerable.Range(0, values).Select(i => new IPEndPoint(v6Values ? IPAddress.Parse("2001:db8::" + (i + 1).ToString("x")) : IPAddress.Parse("40.0." + (i / 250) + "." + (i % 250)), 1000 + i))],
        Nodes = [.. Enumerable.Range(0, nodes).Select(i => new NodeContact(NodeId.CreateRandom(random), new IPEndPoint(IPAddress.Parse("30.0.0." + (i + 1)), 6881)))],
        Nodes6 = [.. Enumerable.Range(0, nodes6).Select(i => new NodeContact(NodeId.CreateRandom(random), new IPEndPoint(IPAddress.Parse("2001:db8:1::" + (i + 1).ToString("x")), 6881)))],
    };

    [Fact]
    public void AReplyWithinBudgetIsEncodedUntouched()
    {
        KrpcResponse r = Response(new Random(1), 5, 8, 0);
        var output = new ArrayBufferWriter<byte>();
        Assert.True(ReplyTrimmer.TryEncode(r, Asker, 1024, AddressFamily.InterNetwork, output));
        Assert.Equal(KrpcCodec.Encode(r, Asker), output.WrittenSpan.ToArray());
    }

    [Fact]
    public void ValuesGoFirstThenTheOtherFamilysNodesThenOurOwn()
    {
        KrpcResponse r = Response(new Random(2), 100, 8, 8);
        int full = KrpcCodec.Encode(r, Asker).Length;
        int bare = KrpcCodec.Encode(new KrpcResponse { TransactionId = r.TransactionId, SenderId = r.SenderId, Token = r.Token }, Asker).Length;
        var output = new ArrayBufferWriter<byte>();

        // Room for every node and some values: only values go.
        int nodesOnly = KrpcCodec.Encode(new KrpcResponse { TransactionId = r.TransactionId, SenderId = r.SenderId, Token = r.Token, Nodes = r.Nodes, Nodes6 = r.Nodes6 }, Asker).Length;
        int budget = KrpcCodec.Encode(new KrpcResponse
        {
            TransactionId = r.TransactionId, SenderId = r.SenderId, Token = r.Token, Nodes = r.Nodes, Nodes6 = r.Nodes6, Values = [.. r.Values.Take(20)],
        }, Asker).Length;
        Assert.True(ReplyTrimmer.TryEncode(r, Asker, budget, AddressFamily.InterNetwork, output));
        var trimmed = (KrpcResponse)KrpcCodec.Decode(output.WrittenMemory.ToArray());
        Assert.Equal(budget, output.WrittenCount); // as many values as fit, not one fewer
        Assert.Equal(20, trimmed.Values.Count);
        Assert.Equal(r.Values.Take(20), trimmed.Values);
        Assert.Equal(8, trimmed.Nodes.Count);
        Assert.Equal(8, trimmed.Nodes6.Count);

        // Less room: no values, and an IPv4 node gives up its IPv6 extras before its own nodes.
        Assert.True(ReplyTrimmer.TryEncode(r, Asker, nodesOnly - (3 * CompactAddress.NodeV6Length), AddressFamily.InterNetwork, output));
        trimmed = (KrpcResponse)KrpcCodec.Decode(output.WrittenMemory.ToArray());
        Assert.Empty(trimmed.Values);
        Assert.Equal(8, trimmed.Nodes.Count);
        Assert.Equal(5, trimmed.Nodes6.Count);

        // An IPv6 node keeps its own "nodes6" longest.
        Assert.True(ReplyTrimmer.TryEncode(r, Asker, nodesOnly - (3 * CompactAddress.NodeV4Length), AddressFamily.InterNetworkV6, output));
        trimmed = (KrpcResponse)KrpcCodec.Decode(output.WrittenMemory.ToArray());
        Assert.Equal(5, trimmed.Nodes.Count);
        Assert.Equal(8, trimmed.Nodes6.Count);

        Assert.True(ReplyTrimmer.TryEncode(r, Asker, bare, AddressFamily.InterNetwork, output)); // everything trimmed, still an answer
        Assert.Equal(bare, output.WrittenCount);
        Assert.False(ReplyTrimmer.TryEncode(r, Asker, bare - 1, AddressFamily.InterNetwork, output)); // silence, never an oversized reply
        Assert.True(full > 1024);
    }

    [Fact]
    public void ErrorsAreNeverTrimmedOnlyRefused()
    {
        var error = new KrpcError { TransactionId = "aa"u8.ToArray(), Code = 203, Message = "bad token" };
        int size = KrpcCodec.Encode(error, Asker).Length;
        var output = new ArrayBufferWriter<byte>();
        Assert.True(ReplyTrimmer.TryEncode(error, Asker, size, AddressFamily.InterNetwork, output));
        Assert.False(ReplyTrimmer.TryEncode(error, Asker, size - 1, AddressFamily.InterNetwork, output));
    }

    [Fact]
    public void NoBudgetIsEverExceeded()
    {
        var random = new Random(3);
        var output = new ArrayBufferWriter<byte>();
        for (int i = 0; i < 500; i++)
        {
            KrpcResponse r = Response(random, random.Next(0, 200), random.Next(0, 9), random.Next(0, 9), v6Values: random.Next(2) == 0);
            int budget = random.Next(20, 2000);
            AddressFamily family = random.Next(2) == 0 ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6;
            if (ReplyTrimmer.TryEncode(r, Asker, budget, family, output))
            {
                Assert.InRange(output.WrittenCount, 1, budget);
                Assert.IsType<KrpcResponse>(KrpcCodec.Decode(output.WrittenMemory.ToArray()));
            }
            else
            {
                int bare = KrpcCodec.Encode(new KrpcResponse { TransactionId = r.TransactionId, SenderId = r.SenderId, Token = r.Token }, Asker).Length;
                Assert.True(bare > budget, $"refused a reply whose bare form ({bare} bytes) fits {budget}");
            }
        }
    }
}
