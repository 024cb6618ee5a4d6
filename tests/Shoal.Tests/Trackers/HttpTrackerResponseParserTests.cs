using System.Net;
using System.Text;
using Shoal.Trackers;

namespace Shoal.Tests.Trackers;

public sealed class HttpTrackerResponseParserTests
{
    private static byte[] B(string text) => Encoding.Latin1.GetBytes(text);

    [Fact]
    public void CompactPeersAndPeers6AreParsed()
    {
        string v4 = "\x7f\x00\x00\x01\x1a\xe1" + "\x0a\x00\x00\x02\x00\x50";
        string v6 = "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x1a\xe2";
        byte[] body = B($"d8:completei3e10:incompletei4e8:intervali900e12:min intervali60e5:peers12:{v4}6:peers618:{v6}e");
        AnnounceResponse? response = HttpTrackerResponseParser.ParseAnnounce(body, 100, out string? failure);
        Assert.Null(failure);
        Assert.NotNull(response);
        Assert.Equal(TimeSpan.FromSeconds(900), response.Interval);
        Assert.Equal(TimeSpan.FromSeconds(60), response.MinInterval);
        Assert.Equal(3, response.Complete);
        Assert.Equal(4, response.Incomplete);
        Assert.Equal([IPEndPoint.Parse("127.0.0.1:6881"), IPEndPoint.Parse("10.0.0.2:80"), IPEndPoint.Parse("[::1]:6882")], response.Peers);
    }

    [Fact]
    public void DictionaryPeersAreParsedAndHostnamesSkipped()
    {
        byte[] body = B("d8:intervali1800e5:peersld2:ip9:127.0.0.17:peer id20:aaaaaaaaaaaaaaaaaaaa4:porti6881eed2:ip11:example.org4:porti1eed2:ip3:::14:porti7eeee");
        AnnounceResponse response = HttpTrackerResponseParser.ParseAnnounce(body, 100, out _)!;
        Assert.Equal([IPEndPoint.Parse("127.0.0.1:6881"), IPEndPoint.Parse("[::1]:7")], response.Peers);
        Assert.Null(response.MinInterval);
    }

    [Fact]
    public void FailureReasonIsReturned()
    {
        AnnounceResponse? response = HttpTrackerResponseParser.ParseAnnounce(B("d14:failure reason12:unregisterede"), 10, out string? failure);
        Assert.Null(response);
        Assert.Equal("unregistered", failure);
    }

    [Fact]
    public void WarningTrackerIdAndExternalIpAreRead()
    {
        byte[] body = B("d11:external ip4:\u0001\u0002\u0003\u00048:intervali60e5:peers0:10:tracker id3:xyz15:warning message4:slowe");
        AnnounceResponse response = HttpTrackerResponseParser.ParseAnnounce(body, 10, out _)!;
        Assert.Equal("slow", response.WarningMessage);
        Assert.Equal("xyz", response.TrackerId);
        Assert.Equal(IPAddress.Parse("1.2.3.4"), response.ExternalIp);
    }

    [Fact]
    public void MaxPeersBoundsTheList()
    {
        var compact = new StringBuilder();
        for (int i = 0; i < 50; i++) compact.Append("\x01\x02\x03\x04\x00\x01");
        byte[] body = B($"d8:intervali60e5:peers300:{compact}e");
        Assert.Equal(10, HttpTrackerResponseParser.ParseAnnounce(body, 10, out _)!.Peers.Count);
    }

    [Theory]
    [InlineData("d8:intervali60e5:peers5:abcdee")] // not a multiple of 6
    [InlineData("d8:intervali60e6:peers67:abcdefge")] // peers6 not a multiple of 18
    [InlineData("d8:intervali-1ee")]
    [InlineData("d8:interval3:abce")]
    [InlineData("d8:intervali60e5:peersi3ee")]
    [InlineData("le")]
    [InlineData("<html>404</html>")]
    [InlineData("")]
    public void MalformedAnswersThrowTrackerFormatException(string body)
    {
        Assert.Throws<TrackerFormatException>(() => HttpTrackerResponseParser.ParseAnnounce(B(body), 10, out _));
    }

    [Fact]
    public void ScrapeFilesAreParsed()
    {
        string hash = new('a', 20);
        byte[] body = B($"d5:filesd20:{hash}d8:completei5e10:downloadedi50e10:incompletei10eeee");
        ScrapeResponse response = HttpTrackerResponseParser.ParseScrape(body, out _)!;
        Assert.Equal(new ScrapeEntry(5, 50, 10), response.Files[TrackerTestKit.Hash((byte)'a')]);
    }

    [Fact]
    public void ScrapeKeyThatIsNotAnInfoHashIsRejected()
    {
        Assert.Throws<TrackerFormatException>(() => HttpTrackerResponseParser.ParseScrape(B("d5:filesd3:abcd8:completei1eeee"), out _));
    }
}
