using System.Net;
using System.Text;
using Shoal.Dht;

namespace Shoal.Tests.Dht;

public sealed class KrpcCodecTests
{
    private static readonly NodeId SpecId = new("abcdefghij0123456789"u8);
    private static readonly NodeId SpecHash = new("mnopqrstuvwxyz123456"u8);

    [Theory]
    [InlineData("d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe")]
    [InlineData("d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e1:q9:find_node1:t2:aa1:y1:qe")]
    [InlineData("d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz123456e1:q9:get_peers1:t2:aa1:y1:qe")]
    [InlineData("d1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe")]
    [InlineData("d1:rd2:id20:abcdefghij01234567895:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee1:t2:aa1:y1:re")]
    [InlineData("d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee")]
    public void SpecExamplesRoundTripByteForByte(string bencoded)
    {
        byte[] bytes = Encoding.Latin1.GetBytes(bencoded);
        KrpcMessage message = KrpcCodec.Decode(bytes);
        Assert.Equal(bencoded, Encoding.Latin1.GetString(KrpcCodec.Encode(message)));
    }

    [Fact]
    public void SpecExamplesDecodeToTheirFields()
    {
        var announce = (KrpcQuery)KrpcCodec.Decode(Encoding.Latin1.GetBytes(
            "d1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe"));
        Assert.Equal(KrpcMethod.AnnouncePeer, announce.Method);
        Assert.Equal(SpecId, announce.SenderId);
        Assert.Equal(SpecHash, announce.Target);
        Assert.True(announce.ImpliedPort);
        Assert.Equal(6881, announce.Port);
        Assert.Equal("aoeusnth"u8.ToArray(), announce.Token.ToArray());

        var peers = (KrpcResponse)KrpcCodec.Decode(Encoding.Latin1.GetBytes("d1:rd2:id20:abcdefghij01234567895:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee1:t2:aa1:y1:re"));
        Assert.Equal(2, peers.Values.Count);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("97.120.106.101"), ('.' << 8) | 'u'), peers.Values[0]);

        var error = (KrpcError)KrpcCodec.Decode(Encoding.Latin1.GetBytes("d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee"));
        Assert.Equal(201, error.Code);
        Assert.Equal("A Generic Error Ocurred", error.Message);
    }

    [Fact]
    public void NodesNodes6IpAndReadOnlyRoundTrip()
    {
        var random = new Random(5);
        var v4 = new NodeContact(NodeId.CreateRandom(random), new IPEndPoint(IPAddress.Parse("1.2.3.4"), 6881));
        var v6 = new NodeContact(NodeId.CreateRandom(random), new IPEndPoint(IPAddress.Parse("2001:db8::1"), 6882));
        var response = new KrpcResponse { TransactionId = "xy"u8.ToArray(), SenderId = SpecId, Nodes = [v4], Nodes6 = [v6], Token = "tok"u8.ToArray() };
        byte[] bytes = KrpcCodec.Encode(response, requester: new IPEndPoint(IPAddress.Parse("5.6.7.8"), 1234));
        var decoded = (KrpcResponse)KrpcCodec.Decode(bytes);
        Assert.Equal([v4], decoded.Nodes);
        Assert.Equal([v6], decoded.Nodes6);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("5.6.7.8"), 1234), decoded.RequesterAddress);

        var ping = new KrpcQuery { TransactionId = "aa"u8.ToArray(), Method = KrpcMethod.Ping, SenderId = SpecId, ReadOnly = true };
        byte[] encoded = KrpcCodec.Encode(ping);
        Assert.Contains("2:roi1e", Encoding.Latin1.GetString(encoded), StringComparison.Ordinal);
        Assert.True(((KrpcQuery)KrpcCodec.Decode(encoded)).ReadOnly);
    }

    [Theory]
    [InlineData("")]
    [InlineData("le")]
    [InlineData("d1:t2:aa1:y1:qe")]
    [InlineData("d1:ad2:id3:abce1:q4:ping1:t2:aa1:y1:qe")]
    [InlineData("d1:rd2:id20:abcdefghij01234567895:nodes5:abcdee1:t2:aa1:y1:re")]
    [InlineData("d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz123456e1:q13:announce_peer1:t2:aa1:y1:qe")]
    [InlineData("d1:t2:aa1:y1:ze")]
    [InlineData("d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe\0")]
    public void MalformedPacketsRaiseKrpcFormatException(string bencoded)
        => Assert.Throws<KrpcFormatException>(() => KrpcCodec.Decode(Encoding.Latin1.GetBytes(bencoded)));

    [Fact]
    public void DeepNestingAndOversizedPacketsAreRejected()
    {
        string deep = "d1:a" + new string('l', 100) + new string('e', 100) + "e";
        Assert.Throws<KrpcFormatException>(() => KrpcCodec.Decode(Encoding.Latin1.GetBytes(deep)));
        byte[] big = new byte[KrpcCodec.MaxPacketLength + 1];
        big[0] = (byte)'d';
        Assert.Throws<KrpcFormatException>(() => KrpcCodec.Decode(big));
    }

    [Fact]
    public void FuzzedPacketsOnlyRaiseFormatErrors()
    {
        var random = new Random(1234);
        byte[][] seeds =
        [
            Encoding.Latin1.GetBytes("d1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe"),
            Encoding.Latin1.GetBytes("d1:rd2:id20:abcdefghij01234567895:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee1:t2:aa1:y1:re"),
            KrpcCodec.Encode(new KrpcResponse
            {
                TransactionId = "zz"u8.ToArray(),
                SenderId = SpecId,
                Nodes = [new NodeContact(SpecHash, new IPEndPoint(IPAddress.Parse("9.9.9.9"), 99))],
            }),
        ];
        for (int i = 0; i < 5000; i++)
        {
            byte[] packet = i % 5 == 0 ? RandomBytes(random) : Mutate(seeds[random.Next(seeds.Length)], random);
            try
            {
                KrpcCodec.Decode(packet);
            }
            catch (ShoalFormatException)
            {
            }
        }
    }

    internal static byte[] RandomBytes(Random random)
    {
        byte[] b = new byte[random.Next(0, 200)];
        random.NextBytes(b);
        if (b.Length > 0 && random.Next(2) == 0) b[0] = (byte)'d';
        return b;
    }

    internal static byte[] Mutate(byte[] seed, Random random)
    {
        var list = new List<byte>(seed);
        int edits = random.Next(1, 5);
        for (int e = 0; e < edits && list.Count > 0; e++)
        {
            int at = random.Next(list.Count);
            switch (random.Next(4))
            {
                case 0: list[at] = (byte)random.Next(256); break;
                case 1: list.RemoveAt(at); break;
                case 2: list.Insert(at, (byte)"0123456789:deil"[random.Next(15)]); break;
                default: list.RemoveRange(at, list.Count - at); break;
            }
        }
        return [.. list];
    }
}
