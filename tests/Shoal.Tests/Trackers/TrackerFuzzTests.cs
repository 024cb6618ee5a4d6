using System.Buffers;
using System.Net;
using System.Text;
using Shoal.Trackers;
using Shoal.Trackers.Server;
using static Shoal.Tests.Trackers.TrackerTestKit;

namespace Shoal.Tests.Trackers;

public sealed class TrackerFuzzTests
{
    private static readonly byte[][] HttpSeeds =
    [
        Encoding.Latin1.GetBytes("d8:completei3e10:incompletei4e8:intervali900e12:min intervali60e5:peers12:\x7f\x00\x00\x01\x1a\xe1\x0a\x00\x00\x02\x00\x50" + "6:peers618:\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x1a\xe2" + "e"),
        Encoding.Latin1.GetBytes("d8:intervali1800e5:peersld2:ip9:127.0.0.17:peer id20:aaaaaaaaaaaaaaaaaaaa4:porti6881eeee"),
        Encoding.Latin1.GetBytes("d14:failure reason12:unregisterede"),
        Encoding.Latin1.GetBytes("d5:filesd20:aaaaaaaaaaaaaaaaaaaad8:completei5e10:downloadedi50e10:incompletei10eeee"),
        Encoding.Latin1.GetBytes("d11:external ip4:\u0001\u0002\u0003\u00048:intervali60e5:peers0:10:tracker id3:xyz15:warning message4:slowe"),
    ];

    private static byte[] Mutate(Random random, byte[] seed)
    {
        byte[] data = (byte[])seed.Clone();
        int edits = random.Next(1, 5);
        for (int e = 0; e < edits && data.Length > 0; e++)
        {
            switch (random.Next(4))
            {
                case 0:
                    data[random.Next(data.Length)] = (byte)random.Next(256);
                    break;
                case 1:
                    data = data[..random.Next(data.Length)];
                    break;
                case 2:
                    int at = random.Next(data.Length);
                    data = [.. data[..at], (byte)"0123456789ilde:-"[random.Next(16)], .. data[at..]];
                    break;
                default:
                    int from = random.Next(data.Length);
                    data = [.. data, .. data[from..Math.Min(data.Length, from + random.Next(1, 30))]];
                    break;
            }
        }
        return data;
    }

    [Fact]
    public void TheHttpSeedsAreValidAnswers()
    {
        // Mutations of broken seeds would only ever test the error path; the first four are announce answers.
        foreach (byte[] seed in HttpSeeds.Where((_, i) => i != 3))
        {
            try
            {
                HttpTrackerResponseParser.ParseAnnounce(seed, 50, out _);
            }
            catch (TrackerException)
            {
                // A failure reason is a valid answer too.
            }
        }
        HttpTrackerResponseParser.ParseScrape(HttpSeeds[3], out _);
    }

    [Fact]
    public void HttpAnswerParsersThrowOnlyFormatExceptions()
    {
        var random = new Random(3);
        for (int i = 0; i < 4000; i++)
        {
            byte[] body = i % 4 == 0 ? RandomBytes(random, 200) : Mutate(random, HttpSeeds[random.Next(HttpSeeds.Length)]);
            OnlyFormatExceptions(() => HttpTrackerResponseParser.ParseAnnounce(body, 50, out _));
            OnlyFormatExceptions(() => HttpTrackerResponseParser.ParseScrape(body, out _));
        }
    }

    [Fact]
    public void UdpAnswerParsersThrowOnlyFormatExceptions()
    {
        var random = new Random(5);
        for (int i = 0; i < 4000; i++)
        {
            byte[] packet = RandomBytes(random, 120);
            OnlyFormatExceptions(() => UdpTrackerProtocol.ReadConnectResponse(packet));
            OnlyFormatExceptions(() => UdpTrackerProtocol.ReadAnnounceResponse(packet, i % 2 == 0, 50));
            OnlyFormatExceptions(() => UdpTrackerProtocol.ReadScrapeResponse(packet, [Hash(1), Hash(2), Hash(3)]));
            OnlyFormatExceptions(() => UdpTrackerProtocol.ReadErrorMessage(packet));
            UdpTrackerProtocol.TryReadHeader(packet, out _, out _);
        }
    }

    [Fact]
    public void HttpQueryParsersThrowOnlyFormatExceptions()
    {
        var random = new Random(7);
        string seed = "info_hash=%00%01aaaaaaaaaaaaaaaaaa&peer_id=-SH0001-aaaaaaaaaaaa&port=6881&uploaded=1&downloaded=2&left=3&event=started&numwant=5&compact=0&no_peer_id=1";
        const string Alphabet = "%&=+-_0123456789abcdefzAZ?é\0";
        for (int i = 0; i < 4000; i++)
        {
            var query = new StringBuilder(seed);
            for (int e = random.Next(1, 6); e > 0 && query.Length > 0; e--)
            {
                int at = random.Next(query.Length);
                if (random.Next(3) == 0) query.Remove(at, Math.Min(query.Length - at, random.Next(1, 10)));
                else query.Insert(at, Alphabet[random.Next(Alphabet.Length)]);
            }
            string text = query.ToString();
            OnlyFormatExceptions(() => HttpTrackerProtocol.ParseAnnounce(text, IPAddress.Loopback));
            OnlyFormatExceptions(() => HttpTrackerProtocol.ParseScrape(text));
        }
    }

    [Fact]
    public void UdpServerPacketHandlerNeverThrows()
    {
        var random = new Random(11);
        var registry = new SwarmRegistry();
        var server = new UdpTrackerServer(registry);
        var client = IPEndPoint.Parse("10.1.2.3:4000");
        long id = UdpTrackerServerTests.Connect(server, client);
        byte[] response = new byte[UdpTrackerServer.MaxResponseLength];
        var scratch = new SwarmPeer[200];
        byte[] valid = new byte[98];
        UdpTrackerProtocol.WriteAnnounceRequest(valid, id, 1, Request(Hash(1), PeerId('a'), 6881, 10));
        for (int i = 0; i < 5000; i++)
        {
            byte[] packet;
            switch (i % 3)
            {
                case 0:
                    packet = RandomBytes(random, 1600);
                    break;
                case 1:
                    packet = Mutate(random, valid);
                    if (packet.Length >= 8) System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(packet, id);
                    break;
                default:
                    packet = RandomBytes(random, 300);
                    if (packet.Length >= 16)
                    {
                        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(packet, id);
                        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(packet.AsSpan(8), random.Next(-1, 5));
                    }
                    break;
            }
            IPEndPoint from = i % 10 == 0 ? new IPEndPoint(IPAddress.Parse($"2001:db8::{i % 50:x}"), 4000) : client;
            int length = server.HandlePacket(packet, from, response, scratch);
            Assert.InRange(length, 0, UdpTrackerServer.MaxResponseLength);
        }
        Assert.True(registry.TorrentCount >= 1);
    }

    [Fact]
    public void HttpResponseWritersRoundTripThroughTheClientParser()
    {
        var random = new Random(13);
        for (int i = 0; i < 200; i++)
        {
            var peers = new SwarmPeer[random.Next(0, 60)];
            for (int p = 0; p < peers.Length; p++)
            {
                byte[] address = new byte[random.Next(2) == 0 ? 4 : 16];
                random.NextBytes(address);
                peers[p] = new SwarmPeer(new IPAddress(address), random.Next(1, 65536), PeerId('x'));
            }
            bool compact = random.Next(2) == 0;
            var output = new ArrayBufferWriter<byte>();
            HttpTrackerProtocol.WriteAnnounceResponse(output, new AnnounceOutcome(peers.Length, 1, 2, TimeSpan.FromSeconds(900), TimeSpan.FromSeconds(60), null), peers, compact, false);
            AnnounceResponse parsed = HttpTrackerResponseParser.ParseAnnounce(output.WrittenMemory, 1000, out _)!;
            var expected = peers.Select(p => new IPEndPoint(p.Address, p.Port)).ToList();
            if (compact) expected = [.. expected.Where(e => e.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork), .. expected.Where(e => e.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork)];
            Assert.Equal(expected, parsed.Peers);
        }
    }

    private static byte[] RandomBytes(Random random, int max)
    {
        byte[] data = new byte[random.Next(0, max)];
        random.NextBytes(data);
        return data;
    }

    private static void OnlyFormatExceptions(Action parse)
    {
        try
        {
            parse();
        }
        catch (ShoalFormatException)
        {
        }
    }
}
