using Shoal.Trackers;
using Shoal.Trackers.Server;

namespace Shoal.Tests.Trackers;

public sealed class TrackerUrlTests
{
    [Theory]
    [InlineData("http://example.com/announce", "http://example.com/scrape")]
    [InlineData("http://example.com/x/announce", "http://example.com/x/scrape")]
    [InlineData("http://example.com/announce.php", "http://example.com/scrape.php")]
    [InlineData("http://example.com/announce?x2%0644", "http://example.com/scrape?x2%0644")]
    [InlineData("http://example.com/announce?x=2/4", "http://example.com/scrape?x=2/4")]
    [InlineData("http://example.com/x%064announce", null)]
    [InlineData("http://example.com/a", null)]
    [InlineData("http://example.com/announce/x", null)]
    [InlineData("http://example.com/x/Announce", null)]
    public void ScrapeUrlFollowsBep48(string announce, string? scrape)
    {
        Uri? derived = TrackerUrl.TryGetScrapeUrl(new Uri(announce));
        Assert.Equal(scrape, derived?.OriginalString is { } s ? new Uri(s).AbsoluteUri : null);
    }

    [Fact]
    public void PercentEncodingRoundTripsEveryByte()
    {
        byte[] all = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();
        string encoded = TrackerUrl.PercentEncode(all);
        Assert.DoesNotContain('+', encoded);
        byte[] decoded = new byte[256];
        Assert.Equal(256, TrackerUrl.TryPercentDecode(encoded, decoded));
        Assert.Equal(all, decoded);
    }

    [Theory]
    [InlineData("%")]
    [InlineData("%4")]
    [InlineData("%zz")]
    [InlineData("é")]
    public void BadEscapesAreRejected(string value) => Assert.Equal(-1, TrackerUrl.TryPercentDecode(value, new byte[32]));

    [Fact]
    public void AnnounceUrlCarriesRawBytesThatTheServerDecodes()
    {
        byte[] hash = Enumerable.Range(0, 20).Select(i => (byte)(i * 13)).ToArray();
        byte[] peerId = "-SH0001-%41+ &=/?#\u00ff"u8.ToArray()[..20];
        using var http = new HttpClient();
        var client = new HttpTrackerClient(new Uri("http://t.example/announce?passkey=abc"), http);
        var request = new AnnounceRequest(new Shoal.Metainfo.InfoHash(hash), peerId, 6881, 1, 2, 3, AnnounceEvent.Completed, 30, 0xCAFE);
        Uri url = client.BuildAnnounceUrl(request);
        Assert.StartsWith("http://t.example/announce?passkey=abc&info_hash=", url.AbsoluteUri, StringComparison.Ordinal);

        HttpAnnounceQuery parsed = HttpTrackerProtocol.ParseAnnounce(url.Query, System.Net.IPAddress.Loopback);
        Assert.Equal(hash, parsed.Announce.InfoHash.Span.ToArray());
        Assert.Equal(peerId, parsed.Announce.PeerId.ToArray());
        Assert.Equal(6881, parsed.Announce.Port);
        Assert.Equal(AnnounceEvent.Completed, parsed.Announce.Event);
        Assert.Equal(30, parsed.Announce.NumWant);
        Assert.Equal(3, parsed.Announce.Left);
        Assert.True(parsed.Compact);
    }

    [Fact]
    public void FactoryPicksByScheme()
    {
        using var http = new HttpClient();
        var factory = new TrackerClientFactory(http);
        Assert.IsType<HttpTrackerClient>(factory.Create(new Uri("http://a/announce")));
        Assert.IsType<HttpTrackerClient>(factory.Create(new Uri("https://a/announce")));
        using ITrackerClient udp = factory.Create(new Uri("udp://a:80/announce"));
        Assert.IsType<UdpTrackerClient>(udp);
        ArgumentException e = Assert.Throws<ArgumentException>(() => factory.Create(new Uri("wss://a/announce")));
        Assert.Contains("unsupported scheme 'wss'", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => factory.Create(new Uri("udp://a/announce")));
    }
}
