using System.Buffers.Binary;
using System.Net;
using Shoal.Trackers;
using Shoal.Trackers.Server;
using static Shoal.Tests.Trackers.TrackerTestKit;

namespace Shoal.Tests.Trackers;

public sealed class UdpTrackerServerTests
{
    private static readonly IPEndPoint Client = IPEndPoint.Parse("10.0.0.1:5000");

    internal static long Connect(UdpTrackerServer server, IPEndPoint client)
    {
        byte[] request = new byte[16];
        UdpTrackerProtocol.WriteConnectRequest(request, 77);
        byte[] response = new byte[UdpTrackerServer.MaxResponseLength];
        Assert.Equal(16, server.HandlePacket(request, client, response, new SwarmPeer[200]));
        Assert.True(UdpTrackerProtocol.TryReadHeader(response, out int action, out int tid));
        Assert.Equal((0, 77), (action, tid));
        return UdpTrackerProtocol.ReadConnectResponse(response);
    }

    private static (int Length, byte[] Response) Send(UdpTrackerServer server, byte[] request, IPEndPoint client)
    {
        byte[] response = new byte[UdpTrackerServer.MaxResponseLength];
        return (server.HandlePacket(request, client, response, new SwarmPeer[200]), response);
    }

    private static byte[] AnnouncePacket(long connectionId, int port, AnnounceEvent evt = AnnounceEvent.Started)
    {
        byte[] packet = new byte[98];
        UdpTrackerProtocol.WriteAnnounceRequest(packet, connectionId, 99, Request(Hash(1), PeerId((char)('a' + (port % 20))), port, 10, evt));
        return packet;
    }

    [Fact]
    public void ConnectThenAnnounceReturnsOtherPeers()
    {
        var server = new UdpTrackerServer(new SwarmRegistry());
        IPEndPoint other = IPEndPoint.Parse("10.0.0.2:5000");
        Send(server, AnnouncePacket(Connect(server, other), 2000), other);

        var (length, response) = Send(server, AnnouncePacket(Connect(server, Client), 1000), Client);
        AnnounceResponse parsed = UdpTrackerProtocol.ReadAnnounceResponse(response.AsSpan(0, length), ipv6: false, 100);
        Assert.Equal([IPEndPoint.Parse("10.0.0.2:2000")], parsed.Peers);
        Assert.Equal(2, parsed.Incomplete);
    }

    [Fact]
    public void ConnectionIdIsBoundToTheClientAddressAndExpires()
    {
        var time = new ManualTimeProvider();
        var server = new UdpTrackerServer(new SwarmRegistry(), time: time);
        long id = Connect(server, Client);
        Assert.Equal(0, Send(server, AnnouncePacket(id, 1000), IPEndPoint.Parse("10.0.0.1:5001")).Length); // another port: silence
        Assert.Equal(0, Send(server, AnnouncePacket(id ^ 1, 1000), Client).Length);
        time.Advance(TimeSpan.FromSeconds(60));
        Assert.NotEqual(0, Send(server, AnnouncePacket(id, 1000), Client).Length); // still valid in the next minute
        time.Advance(TimeSpan.FromSeconds(120));
        Assert.Equal(0, Send(server, AnnouncePacket(id, 1000), Client).Length);
    }

    [Fact]
    public void BadConnectMagicAndShortPacketsGetNoAnswer()
    {
        var server = new UdpTrackerServer(new SwarmRegistry());
        byte[] connect = new byte[16];
        UdpTrackerProtocol.WriteConnectRequest(connect, 1);
        connect[0] ^= 1;
        Assert.Equal(0, Send(server, connect, Client).Length);
        Assert.Equal(0, Send(server, new byte[15], Client).Length);
    }

    [Fact]
    public void MalformedRequestsFromAProvenSourceGetAnError()
    {
        var server = new UdpTrackerServer(new SwarmRegistry());
        long id = Connect(server, Client);
        byte[] shortAnnounce = AnnouncePacket(id, 1000)[..60];
        var (length, response) = Send(server, shortAnnounce, Client);
        Assert.True(UdpTrackerProtocol.TryReadHeader(response.AsSpan(0, length), out int action, out int tid));
        Assert.Equal((3, 99), (action, tid));
        Assert.Contains("shorter than 98", UdpTrackerProtocol.ReadErrorMessage(response.AsSpan(0, length)), StringComparison.Ordinal);

        byte[] badEvent = AnnouncePacket(id, 1000);
        BinaryPrimitives.WriteInt32BigEndian(badEvent.AsSpan(80), 9);
        Assert.Equal("unknown event", UdpTrackerProtocol.ReadErrorMessage(Send(server, badEvent, Client).Response.AsSpan(0, Send(server, badEvent, Client).Length)));
    }

    [Fact]
    public void ScrapeAnswersNoLargerThanTheRequestPlusHeader()
    {
        var server = new UdpTrackerServer(new SwarmRegistry());
        long id = Connect(server, Client);
        Send(server, AnnouncePacket(id, 1000), Client);
        byte[] scrape = new byte[16 + 40];
        UdpTrackerProtocol.WriteScrapeRequest(scrape, id, 5, [Hash(1), Hash(2)]);
        var (length, response) = Send(server, scrape, Client);
        Assert.True(length <= scrape.Length);
        ScrapeResponse parsed = UdpTrackerProtocol.ReadScrapeResponse(response.AsSpan(0, length), [Hash(1), Hash(2)]);
        Assert.Equal(new ScrapeEntry(0, 0, 1), parsed.Files[Hash(1)]);
        Assert.Equal(default, parsed.Files[Hash(2)]);
    }

    [Fact]
    public void RateLimitedSourcesGetSilence()
    {
        var server = new UdpTrackerServer(new SwarmRegistry(), new AddressRateLimiter(1, 2, time: new ManualTimeProvider()));
        byte[] connect = new byte[16];
        UdpTrackerProtocol.WriteConnectRequest(connect, 1);
        Assert.Equal([16, 16, 0], Enumerable.Range(0, 3).Select(_ => Send(server, connect, Client).Length));
    }
}
