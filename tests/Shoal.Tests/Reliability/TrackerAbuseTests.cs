using System.Net;
using System.Net.Sockets;
using System.Text;
using Shoal.Cli.Tracker;
using Shoal.Metainfo;
using Shoal.Trackers;
using Xunit.Abstractions;

namespace Shoal.Tests.Reliability;

/// <summary>
/// The built-in tracker under attack (issue 13, item 6): one address poisoning a swarm with thousands of ports, and
/// HTTP clients that connect and never finish their request.
/// </summary>
[Collection(ReliabilityCollection.Name)]
public sealed class TrackerAbuseTests(ITestOutputHelper output)
{
    private static readonly InfoHash Swarm = new(Enumerable.Repeat((byte)0x5A, 20).ToArray());

    private static Task<TrackerHost> StartAsync() => TrackerHost.StartAsync(new TrackerHostOptions
    {
        Bind = IPAddress.Loopback,
        HttpPort = 0,
        UdpPort = 0,
        // Off: the registry's own bounds are under test (an attacker with many addresses gets past any per-address rate).
        MaxRequestsPerSecond = 0,
    }, CancellationToken.None);

    [Fact]
    public async Task OneAddressAnnouncingFromThousandsOfPortsCannotCrowdOutTheSwarm()
    {
        await using TrackerHost host = await StartAsync();
        IPAddress attacker = IPAddress.Parse("127.0.0.2");
        using (HttpClient http = BoundClient(attacker))
        {
            var client = new HttpTrackerClient(host.HttpAnnounceUrl, http);
            await Parallel.ForAsync(1, 2001, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (port, ct) =>
            {
                try { await client.AnnounceAsync(Request(port, 'x', numWant: 0), ct); }
                catch (TrackerException) { } // refused: a bound doing its work
            });
        }
        for (int i = 3; i <= 8; i++)
        {
            using HttpClient http = BoundClient(IPAddress.Parse($"127.0.0.{i}"));
            await new HttpTrackerClient(host.HttpAnnounceUrl, http).AnnounceAsync(Request(6881, (char)('a' + i), numWant: 0), CancellationToken.None);
        }
        ScrapeEntry counts = host.Registry.Scrape(Swarm);
        output.WriteLine($"swarm after the attack: {counts.Seeders + counts.Leechers} peers");
        Assert.True(counts.Seeders + counts.Leechers <= 6 + new Shoal.Trackers.Server.SwarmRegistryOptions().MaxPeersPerAddress,
            $"{counts.Seeders + counts.Leechers} peers in the swarm: one address holds more than its share");

        // A newcomer asking for 5 peers gets 5 addresses, not 5 ports of the attacker.
        using HttpClient newcomerHttp = BoundClient(IPAddress.Parse("127.0.0.9"));
        AnnounceResponse answer = await new HttpTrackerClient(host.HttpAnnounceUrl, newcomerHttp).AnnounceAsync(Request(6881, 'n', numWant: 5), CancellationToken.None);
        output.WriteLine("newcomer got: " + string.Join(", ", answer.Peers));
        Assert.Equal(5, answer.Peers.Count);
        Assert.Equal(5, answer.Peers.Select(p => p.Address).Distinct().Count());
    }

    [Fact]
    public async Task HttpClientsThatNeverFinishTheirRequestAreClosedWithinSeconds()
    {
        await using TrackerHost host = await StartAsync();
        var sockets = new List<Socket>();
        var closed = new List<Task<TimeSpan>>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            // 200 half-sent requests (request line and a header, never the blank line) and 200 connections that say nothing,
            // spread over four addresses.
            byte[] half = Encoding.ASCII.GetBytes($"GET /announce?info_hash=%5A%5A HTTP/1.1\r\nHost: {host.HttpEndPoint}\r\nUser-Agent: slow");
            for (int i = 0; i < 400; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                sockets.Add(socket);
                socket.Bind(new IPEndPoint(IPAddress.Parse($"127.0.0.{20 + (i % 4)}"), 0));
                await socket.ConnectAsync(host.HttpEndPoint);
                if (i % 2 == 0) await socket.SendAsync(half, SocketFlags.None);
                closed.Add(WaitClosedAsync(socket, clock));
            }

            // Meanwhile an honest client is served.
            using var http = new HttpClient();
            AnnounceResponse honest = await new HttpTrackerClient(host.HttpAnnounceUrl, http).AnnounceAsync(Request(6881, 'h', numWant: 5), CancellationToken.None);
            Assert.NotNull(honest);

            Task<TimeSpan[]> all = Task.WhenAll(closed);
            Assert.True(await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(20))) == all,
                $"{closed.Count(t => !t.IsCompleted)} of 400 slow connections still open after 20 s");
            TimeSpan[] times = await all;
            output.WriteLine($"closed after {times.Min().TotalSeconds:0.0}-{times.Max().TotalSeconds:0.0} s");
        }
        finally
        {
            foreach (Socket socket in sockets) socket.Dispose();
        }
    }

    private static AnnounceRequest Request(int port, char id, int numWant) =>
        new(Swarm, Enumerable.Repeat((byte)id, 20).ToArray(), port, 0, 0, 100, AnnounceEvent.None, numWant, 7);

    /// <summary>An HttpClient whose connections leave from <paramref name="local"/>.</summary>
    private static HttpClient BoundClient(IPAddress local) => new(new SocketsHttpHandler
    {
        ConnectCallback = async (context, ct) =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                socket.Bind(new IPEndPoint(local, 0));
                await socket.ConnectAsync(context.DnsEndPoint, ct);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    });

    private static async Task<TimeSpan> WaitClosedAsync(Socket socket, System.Diagnostics.Stopwatch clock)
    {
        byte[] buffer = new byte[256];
        try
        {
            while (await socket.ReceiveAsync(buffer, SocketFlags.None) > 0) { }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException) { }
        return clock.Elapsed;
    }
}
