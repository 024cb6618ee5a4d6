using System.Net;
using Shoal.Dht;

namespace Shoal.Tests.Dht;

public sealed class NodeIdTests
{
    [Fact]
    public void Crc32CMatchesTheStandardCheckValue()
        => Assert.Equal(0xE3069283u, Crc32C.Compute("123456789"u8));

    [Theory]
    [InlineData("124.31.75.21", 1, "5fbfbf", 0x01)]
    [InlineData("21.75.31.124", 86, "5a3ce9", 0x56)]
    [InlineData("65.23.51.170", 22, "a5d432", 0x16)]
    [InlineData("84.124.73.14", 65, "1b0321", 0x41)]
    [InlineData("43.213.53.83", 90, "e56f6c", 0x5a)]
    public void Bep42VectorsAreRecognisedAndGenerated(string ip, int rand, string prefix, int lastByte)
    {
        // The spec's example ids: only the first 21 bits and the last byte matter.
        byte[] id = new byte[20];
        Convert.FromHexString(prefix).CopyTo(id, 0);
        id[19] = (byte)lastByte;
        Assert.True(new NodeId(id).IsSecureFor(IPAddress.Parse(ip)));
        id[0] ^= 0x80;
        Assert.False(new NodeId(id).IsSecureFor(IPAddress.Parse(ip)));
        Assert.Equal(rand, lastByte);

        for (int seed = 0; seed < 20; seed++)
        {
            NodeId generated = NodeId.CreateSecure(IPAddress.Parse(ip), new Random(seed));
            Assert.True(generated.IsSecureFor(IPAddress.Parse(ip)));
        }
    }

    [Fact]
    public void PrivateAddressesAreExempt()
    {
        NodeId any = NodeId.CreateRandom(new Random(1));
        Assert.True(any.IsSecureFor(IPAddress.Parse("192.168.1.2")));
        Assert.True(any.IsSecureFor(IPAddress.Loopback));
        Assert.True(any.IsSecureFor(IPAddress.Parse("10.0.0.1")));
    }

    [Fact]
    public void XorDistanceOrdersAndCountsSharedPrefix()
    {
        var random = new Random(3);
        NodeId a = NodeId.CreateRandom(random), b = NodeId.CreateRandom(random);
        Assert.Equal(NodeId.Zero, a ^ a);
        Assert.Equal(a ^ b, b ^ a);
        Assert.Equal(160, a.CommonPrefixLength(a));
        byte[] x = new byte[20];
        byte[] y = new byte[20];
        y[2] = 0x10; // first differing bit is bit 19
        Assert.Equal(19, new NodeId(x).CommonPrefixLength(new NodeId(y)));
        NodeId target = new(x);
        Assert.True(target.CompareDistance(new NodeId(x), new NodeId(y)) < 0);
        for (int prefix = 0; prefix < 160; prefix += 7)
        {
            Assert.Equal(prefix, a.CommonPrefixLength(a.RandomWithPrefix(prefix, random)));
        }
        Assert.Equal(a, new NodeId(a.ToArray()));
        Assert.Equal(a, NodeId.ParseHex(a.ToHex()));
    }
}
