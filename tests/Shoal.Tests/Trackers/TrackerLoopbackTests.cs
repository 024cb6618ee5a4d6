using System.Net;
using System.Net.Sockets;
using System.Text;
using Shoal.Cli.Tracker;
using Shoal.Metainfo;
using Shoal.Trackers;
using static Shoal.Tests.Trackers.TrackerTestKit;

namespace Shoal.Tests.Trackers;

/// <summary>The real clients against the real <c>shoal tracker</c> host on 127.0.0.1.</summary>
public sealed class TrackerLoopbackTests
{
    private static readonly UdpTrackerOptions FastUdp = new() { RetransmitBase = TimeSpan.FromMilliseconds(200), MaxRetransmissions = 4 };

    private static Task<TrackerHost> StartAsync(IReadOnlySet<InfoHash>? allow = null, double rate = 0, IPAddress? bind = null) =>
        TrackerHost.StartAsync(new TrackerHostOptions
        {
            Bind = bind ?? IPAddress.Loopback,
            HttpPort = 0,
            UdpPort = 0,
            AllowList = allow,
            MaxRequestsPerSecond = rate,
        }, CancellationToken.None);

    public static TheoryData<string> Schemes => new() { "http", "udp" };

    private static ITrackerClient Client(TrackerHost host, string scheme, HttpClient http) => scheme == "http"
        ? new HttpTrackerClient(host.HttpAnnounceUrl, http)
        : new UdpTrackerClient(host.UdpAnnounceUrl, FastUdp);

    [Theory]
    [MemberData(nameof(Schemes))]
    public async Task TwoPeersSeeEachOtherScrapeCountsAndStoppedRemoves(string scheme)
    {
        await using TrackerHost host = await StartAsync();
        using var http = new HttpClient();
        using ITrackerClient first = Client(host, scheme, http);
        using ITrackerClient second = Client(host, scheme, http);

        AnnounceResponse a = await first.AnnounceAsync(Request(Hash(1), PeerId('a'), 1111, 100), CancellationToken.None);
        Assert.Empty(a.Peers);
        AnnounceResponse b = await second.AnnounceAsync(Request(Hash(1), PeerId('b'), 2222, 0), CancellationToken.None);
        Assert.Equal([IPEndPoint.Parse("127.0.0.1:1111")], b.Peers);
        Assert.Equal((1, 1), (b.Complete, b.Incomplete));
        AnnounceResponse a2 = await first.AnnounceAsync(Request(Hash(1), PeerId('a'), 1111, 100, AnnounceEvent.None), CancellationToken.None);
        Assert.Equal([IPEndPoint.Parse("127.0.0.1:2222")], a2.Peers);

        ScrapeResponse scrape = await first.ScrapeAsync([Hash(1), Hash(2)], CancellationToken.None);
        Assert.Equal(new ScrapeEntry(1, 0, 1), scrape.Files[Hash(1)]);
        Assert.Equal(default, scrape.Files[Hash(2)]);

        await second.AnnounceAsync(Request(Hash(1), PeerId('b'), 2222, 0, AnnounceEvent.Stopped), CancellationToken.None);
        Assert.Equal(new ScrapeEntry(0, 0, 1), (await first.ScrapeAsync([Hash(1)], CancellationToken.None)).Files[Hash(1)]);
        Assert.Empty((await first.AnnounceAsync(Request(Hash(1), PeerId('a'), 1111, 100, AnnounceEvent.None), CancellationToken.None)).Peers);
    }

    [Theory]
    [MemberData(nameof(Schemes))]
    public async Task AllowListRefusesWithAFailureReason(string scheme)
    {
        await using TrackerHost host = await StartAsync(allow: new HashSet<InfoHash> { Hash(1) });
        using var http = new HttpClient();
        using ITrackerClient client = Client(host, scheme, http);
        await client.AnnounceAsync(Request(Hash(1), PeerId('a'), 1111, 100), CancellationToken.None);
        TrackerException e = await Assert.ThrowsAsync<TrackerException>(
            () => client.AnnounceAsync(Request(Hash(2), PeerId('a'), 1111, 100), CancellationToken.None));
        Assert.Equal("this tracker does not serve that info-hash", e.FailureReason);
    }

    [Fact]
    public async Task Ipv6PeersComeBackInPeers6()
    {
        await using TrackerHost host = await StartAsync(bind: IPAddress.IPv6Any);
        using var http = new HttpClient();
        var v6 = new HttpTrackerClient(new Uri($"http://[::1]:{host.HttpEndPoint.Port}/announce"), http);
        var v4 = new HttpTrackerClient(new Uri($"http://127.0.0.1:{host.HttpEndPoint.Port}/announce"), http);
        await v6.AnnounceAsync(Request(Hash(1), PeerId('a'), 1111, 100), CancellationToken.None);
        AnnounceResponse seen = await v4.AnnounceAsync(Request(Hash(1), PeerId('b'), 2222, 100), CancellationToken.None);
        Assert.Equal([IPEndPoint.Parse("[::1]:1111")], seen.Peers);

        using var udp6 = new UdpTrackerClient(new Uri($"udp://[::1]:{host.UdpEndPoint.Port}/announce"), FastUdp);
        AnnounceResponse udpSeen = await udp6.AnnounceAsync(Request(Hash(1), PeerId('c'), 3333, 100), CancellationToken.None);
        Assert.Equal([IPEndPoint.Parse("[::1]:1111")], udpSeen.Peers); // UDP over IPv6 carries only IPv6 peers
    }

    [Theory]
    [InlineData("/announce")]
    [InlineData("/announce?info_hash=short&peer_id=aaaaaaaaaaaaaaaaaaaa&port=1")]
    [InlineData("/announce?info_hash=aaaaaaaaaaaaaaaaaaaa&peer_id=aaaaaaaaaaaaaaaaaaaa&port=99999")]
    [InlineData("/announce?info_hash=%zz")]
    [InlineData("/announce?info_hash=aaaaaaaaaaaaaaaaaaaa&peer_id=aaaaaaaaaaaaaaaaaaaa&port=1&event=bogus")]
    [InlineData("/scrape")]
    [InlineData("/scrape?info_hash=%00")]
    public async Task MalformedHttpRequestsGetABencodedFailureReasonWith200(string pathAndQuery)
    {
        await using TrackerHost host = await StartAsync();
        using var http = new HttpClient();
        HttpResponseMessage response = await http.GetAsync(new Uri($"http://127.0.0.1:{host.HttpEndPoint.Port}{pathAndQuery}"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        byte[] body = await response.Content.ReadAsByteArrayAsync();
        Assert.Null(HttpTrackerResponseParser.ParseAnnounce(body, 10, out string? reason));
        Assert.False(string.IsNullOrWhiteSpace(reason));
    }

    [Fact]
    public async Task UnknownPathIs404WithAReason()
    {
        await using TrackerHost host = await StartAsync();
        using var http = new HttpClient();
        HttpResponseMessage response = await http.GetAsync(new Uri($"http://127.0.0.1:{host.HttpEndPoint.Port}/"));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("failure reason", Encoding.ASCII.GetString(await response.Content.ReadAsByteArrayAsync()), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RateLimitRefusesBeyondTheBurst()
    {
        await using TrackerHost host = await StartAsync(rate: 0.001); // burst of 10, refilled every 1,000 s
        using var http = new HttpClient();
        var client = new HttpTrackerClient(host.HttpAnnounceUrl, http);
        var refusals = new List<string?>();
        for (int i = 0; i < 12; i++)
        {
            try
            {
                await client.AnnounceAsync(Request(Hash(1), PeerId('a'), 1111, 100), CancellationToken.None);
            }
            catch (TrackerException e)
            {
                refusals.Add(e.FailureReason);
            }
        }
        Assert.Equal(2, refusals.Count);
        Assert.All(refusals, r => Assert.Contains("too many requests", r, StringComparison.Ordinal));
    }

    [Fact]
    public async Task MalformedUdpPacketsDoNotHurtTheServer()
    {
        await using TrackerHost host = await StartAsync();
        using var junk = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        junk.Connect(host.UdpEndPoint);
        var random = new Random(15);
        byte[] connect = new byte[16];
        UdpTrackerProtocol.WriteConnectRequest(connect, 1);
        junk.Send(connect);
        byte[] answer = new byte[64];
        junk.ReceiveTimeout = 10_000;
        int n = junk.Receive(answer);
        long id = UdpTrackerProtocol.ReadConnectResponse(answer.AsSpan(0, n));
        for (int i = 0; i < 500; i++)
        {
            byte[] packet = new byte[random.Next(0, 1600)];
            random.NextBytes(packet);
            if (i % 2 == 0 && packet.Length >= 16)
            {
                // A proven connection id, so the packet reaches the announce and scrape parsers.
                System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(packet, id);
                System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(packet.AsSpan(8), random.Next(0, 5));
            }
            junk.Send(packet);
        }
        using var client = new UdpTrackerClient(host.UdpAnnounceUrl, FastUdp);
        await client.AnnounceAsync(Request(Hash(1), PeerId('a'), 1111, 100), CancellationToken.None);
        Assert.Equal(0, host.UdpPacketErrors);
    }

    [Fact]
    public async Task CliReportsABadAllowListOnOneLine()
    {
        string file = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(file, "# ok\n0123456789abcdef0123456789abcdef01234567\nnot-a-hash\n");
            var output = new StringWriter();
            var error = new StringWriter();
            int code = await Shoal.Cli.Program.RunAsync(["tracker", "--allow-list", file, "--http-port", "0", "--udp-port", "0"], output, error, CancellationToken.None);
            Assert.Equal(2, code);
            Assert.Equal($"shoal: error: {file}:3: 'not-a-hash' is not a 40-hex info-hash", error.ToString().Trim());
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task CliPrintsTheUrlsAndStopsOnCancel()
    {
        using var stop = new CancellationTokenSource();
        var text = new StringWriter();
        TextWriter output = TextWriter.Synchronized(text); // written by the command's thread, read here
        string Printed()
        {
            lock (output) return text.ToString();
        }
        Task<int> run = Shoal.Cli.Program.RunAsync(["tracker", "--bind", "127.0.0.1", "--http-port", "0", "--udp-port", "0"], output, new StringWriter(), stop.Token);
        await WaitUntilAsync(() => Printed().Contains("udp://", StringComparison.Ordinal) || run.IsCompleted, "the URLs");
        string printed = Printed();
        Assert.Matches(@"^http: http://127\.0\.0\.1:\d+/announce\r?\nudp: udp://127\.0\.0\.1:\d+/announce", printed);
        await stop.CancelAsync();
        Assert.Equal(0, await run);
    }

    [Fact]
    public async Task CliReportsAPortInUse()
    {
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        int port = ((IPEndPoint)taken.LocalEndPoint!).Port;
        var error = new StringWriter();
        int code = await Shoal.Cli.Program.RunAsync(["tracker", "--bind", "127.0.0.1", "--http-port", "0", "--udp-port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            new StringWriter(), error, CancellationToken.None);
        Assert.Equal(1, code);
        Assert.Equal($"shoal: error: cannot serve UDP on 127.0.0.1:{port}: the port is already in use", error.ToString().Trim());
    }
}
