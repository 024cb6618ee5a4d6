using System.Text;
using Shoal.Discovery;

namespace Shoal.Tests.Discovery;

public sealed class MetadataMessageTests
{
    private static MetadataMessage Parse(string text) => MetadataMessage.Parse(Encoding.ASCII.GetBytes(text));

    [Fact]
    public void EncodesTheBep9Examples()
    {
        Assert.Equal("d8:msg_typei0e5:piecei0ee", Encoding.ASCII.GetString(MetadataMessage.Request(0).Encode()));
        Assert.Equal("d8:msg_typei2e5:piecei0ee", Encoding.ASCII.GetString(MetadataMessage.Reject(0).Encode()));
        Assert.Equal("d8:msg_typei1e5:piecei0e10:total_sizei3425eexyz", Encoding.ASCII.GetString(MetadataMessage.EncodeData(0, 3425, "xyz"u8)));
    }

    [Fact]
    public void ParsesRequestRejectAndData()
    {
        Assert.Equal(MetadataMessage.Request(3), Parse("d8:msg_typei0e5:piecei3ee"));
        Assert.Equal(MetadataMessage.Reject(1), Parse("d8:msg_typei2e5:piecei1ee"));
        MetadataMessage data = Parse("d8:msg_typei1e5:piecei2e10:total_sizei40000eeabcdef");
        Assert.Equal(MetadataMessageType.Data, data.Type);
        Assert.Equal(2, data.Piece);
        Assert.Equal(40000, data.TotalSize);
        Assert.Equal("abcdef"u8.ToArray(), data.Data.ToArray());
    }

    [Fact]
    public void DataRoundTripsWithAFullBlock()
    {
        byte[] block = new byte[MetadataMessage.BlockSize];
        new Random(9).NextBytes(block);
        var message = new MetadataMessage(MetadataMessageType.Data, 5, 200_000, block);
        MetadataMessage parsed = MetadataMessage.Parse(message.Encode());
        Assert.Equal(5, parsed.Piece);
        Assert.Equal(200_000, parsed.TotalSize);
        Assert.True(parsed.Data.Span.SequenceEqual(block));
    }

    [Fact]
    public void UnknownTypesAndUnknownKeysAreTolerated()
    {
        Assert.Equal(MetadataMessageType.Unknown, Parse("d8:msg_typei7e5:piecei0ee").Type);
        Assert.Equal(MetadataMessageType.Request, Parse("d1:ai1e8:msg_typei0e5:piecei0e1:zlee").Type);
        Assert.Equal(MetadataMessageType.Request, Parse("d8:msg_typei0e5:piecei0eetrailing").Type);
    }

    [Theory]
    [InlineData("")]
    [InlineData("d8:msg_typei0ee")]
    [InlineData("d5:piecei0ee")]
    [InlineData("d8:msg_type1:05:piecei0ee")]
    [InlineData("d8:msg_typei0e5:piecei-1ee")]
    [InlineData("d8:msg_typei0e5:piecei1024ee")]
    [InlineData("d8:msg_typei1e5:piecei0ee")]
    [InlineData("d8:msg_typei1e5:piecei0e10:total_sizei0eex")]
    [InlineData("d8:msg_typei1e5:piecei0e10:total_sizei16777217eex")]
    [InlineData("li1ee")]
    [InlineData("d8:msg_typei0e5:piecei0e")]
    public void RejectsMalformedMessages(string text) =>
        Assert.Throws<ExtensionMessageException>(() => Parse(text));

    [Fact]
    public void RejectsADataBlockOver16KiB()
    {
        byte[] payload = [.. "d8:msg_typei1e5:piecei0e10:total_sizei99999ee"u8, .. new byte[MetadataMessage.BlockSize + 1]];
        Assert.Throws<ExtensionMessageException>(() => MetadataMessage.Parse(payload));
    }

    [Fact]
    public void UnknownTypeCannotBeEncoded() =>
        Assert.Throws<InvalidOperationException>(() => new MetadataMessage(MetadataMessageType.Unknown, 0, 0, default).Encode());
}
