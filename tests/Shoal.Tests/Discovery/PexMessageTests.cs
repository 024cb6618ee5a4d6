using System.Net;
using System.Text;
using Shoal.Discovery;

namespace Shoal.Tests.Discovery;

public sealed class PexMessageTests
{
    private static IPEndPoint Ep(string text) => IPEndPoint.Parse(text);

    [Fact]
    public void RoundTripsBothFamiliesWithFlags()
    {
        var message = new PexMessage(
            [
                new PexPeer(Ep("10.0.0.1:6881"), PexFlags.Seed | PexFlags.Reachable),
                new PexPeer(Ep("[2001:db8::1]:51413"), PexFlags.SupportsUtp),
                new PexPeer(Ep("10.0.0.2:1"), PexFlags.None),
            ],
            [Ep("192.0.2.9:7000"), Ep("[2001:db8::2]:8000")]);
        PexMessage parsed = PexMessage.Parse(message.Encode());
        Assert.Equal(message.Added.OrderBy(p => p.EndPoint.ToString()), parsed.Added.OrderBy(p => p.EndPoint.ToString()));
        Assert.Equal(message.Dropped, parsed.Dropped);
    }

    [Fact]
    public void EncodesCompactFormatsAndMapsIpv4MappedAddresses()
    {
        var message = new PexMessage([new PexPeer(new IPEndPoint(IPAddress.Parse("1.2.3.4").MapToIPv6(), 0x1AE1), PexFlags.Seed)], []);
        byte[] expected = [.. "d5:added6:"u8, 1, 2, 3, 4, 0x1A, 0xE1, .. "7:added.f1:"u8, 2, (byte)'e'];
        Assert.Equal(expected, message.Encode());
    }

    [Fact]
    public void AnEmptyMessageStillCarriesAddedKey() =>
        Assert.Equal("d5:added0:7:added.f0:e", Encoding.ASCII.GetString(new PexMessage([], []).Encode()));

    [Fact]
    public void ToleratesMissingFlagsAndSkipsEntriesThatNameNoPeer()
    {
        byte[] payload =
        [
            .. "d5:added12:"u8, 1, 2, 3, 4, 0, 80, 0, 0, 0, 0, 0, 81,
            .. "7:dropped6:"u8, 5, 6, 7, 8, 0, 0, (byte)'e',
        ];
        PexMessage parsed = PexMessage.Parse(payload);
        Assert.Equal([new PexPeer(Ep("1.2.3.4:80"), PexFlags.None)], parsed.Added);
        Assert.Empty(parsed.Dropped);
    }

    public static TheoryData<string, byte[]> MalformedLists => new()
    {
        { "added with a partial entry", [.. "d5:added7:"u8, 127, 0, 0, 7, 0x1F, 0x90, 9, (byte)'e'] },
        { "added6 with a partial entry", [.. "d6:added617:"u8, .. new byte[17], (byte)'e'] },
        { "dropped with a partial entry", [.. "d5:added0:7:dropped5:"u8, 1, 2, 3, 4, 5, (byte)'e'] },
        { "more flags than entries", [.. "d5:added6:"u8, 127, 0, 0, 7, 0x1F, 0x90, .. "7:added.f2:"u8, 0, 0, (byte)'e'] },
        { "fewer flags than entries", [.. "d5:added12:"u8, 127, 0, 0, 7, 0x1F, 0x90, 127, 0, 0, 8, 0x1F, 0x90, .. "7:added.f1:"u8, 0, (byte)'e'] },
        { "flags for no entries", [.. "d7:added.f1:"u8, 2, .. "7:dropped0:e"u8] },
        { "added that is not a string", [.. "d5:addedi5ee"u8] },
        { "flags that are not a string", [.. "d5:added6:"u8, 127, 0, 0, 7, 0x1F, 0x90, .. "7:added.fi2ee"u8] },
        { "added6 that is a list", [.. "d5:added0:6:added6le"u8, (byte)'e'] },
    };

    [Theory]
    [MemberData(nameof(MalformedLists))]
    public void AMalformedListRejectsTheWholeMessage(string what, byte[] payload)
    {
        PexListException error = Assert.Throws<PexListException>(() => PexMessage.Parse(payload));
        Assert.StartsWith("ut_pex", error.Message);
        Assert.NotEmpty(what);
    }

    [Fact]
    public void ReadsAtMost200EntriesPerList()
    {
        byte[] compact = new byte[300 * 6];
        for (int i = 0; i < 300; i++)
        {
            compact[i * 6] = 10;
            compact[(i * 6) + 3] = (byte)(i % 250 + 1);
            compact[(i * 6) + 5] = 1;
        }
        byte[] payload = [.. Encoding.ASCII.GetBytes($"d5:added{compact.Length}:"), .. compact, (byte)'e'];
        Assert.Equal(PexMessage.MaxEntriesPerList, PexMessage.Parse(payload).Added.Count);
    }

    [Theory]
    [InlineData("")]
    [InlineData("le")]
    [InlineData("d5:added")]
    [InlineData("d7:dropped0:5:added0:e")]
    public void RejectsMalformedBencode(string text) =>
        Assert.Throws<ExtensionMessageException>(() => PexMessage.Parse(Encoding.ASCII.GetBytes(text)));

    [Fact]
    public void RejectsAnOversizedMessage()
    {
        int length = PexMessage.MaxPayloadLength;
        byte[] payload = [.. Encoding.ASCII.GetBytes($"d5:added{length}:"), .. new byte[length], (byte)'e'];
        Assert.Throws<ExtensionMessageException>(() => PexMessage.Parse(payload));
    }
}
