using System.Net;
using System.Net.Sockets;
using Shoal.Dht;
using Shoal.Transport.Udp;

namespace Shoal.Tests.Transport;

/// <summary>The shared UDP socket and its demultiplexer (issue 14 item 7), over real sockets on 127.0.0.1.</summary>
public sealed class UdpSocketTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    /// <summary>A protocol that records what it receives, and can be told to block or throw.</summary>
    private sealed class Recorder : IUdpDatagramHandler
    {
        private readonly Lock _lock = new();
        private readonly List<(byte[] Datagram, IPEndPoint Source)> _received = [];
        private readonly List<string> _events = [];

        public ManualResetEventSlim? Block { get; init; }

        public bool Throw { get; init; }

        public List<(byte[] Datagram, IPEndPoint Source)> Received
        {
            get
            {
                lock (_lock) return [.. _received];
            }
        }

        public List<string> Events
        {
            get
            {
                lock (_lock) return [.. _events];
            }
        }

        public void OnDatagram(ReadOnlySpan<byte> datagram, IPEndPoint source)
        {
            lock (_lock)
            {
                _received.Add((datagram.ToArray(), source));
                _events.Add("datagram");
            }
            Block?.Wait(Patience);
            if (Throw) throw new InvalidOperationException("a protocol bug");
        }

        public void OnReceiveIdle()
        {
            lock (_lock) _events.Add("idle");
        }
    }

    private static Socket Client()
    {
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        client.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return client;
    }

    private static byte[] Utp(byte first, int length = 20)
    {
        byte[] packet = new byte[length];
        packet[0] = first;
        packet[1] = 0x00;
        return packet;
    }

    private static byte[] Krpc(string text) => System.Text.Encoding.ASCII.GetBytes("d1:t2:" + text + "e");

    [Fact]
    public void ShapesTellKrpcFromUtpByTheFirstByte()
    {
        byte[] utpFirstBytes = [0x01, 0x11, 0x21, 0x31, 0x41];
        for (int b = 0; b < 256; b++)
        {
            byte[] packet = Utp((byte)b, 20);
            Assert.Equal(utpFirstBytes.Contains((byte)b), DatagramShapes.IsUtp(packet));
            Assert.Equal(b == 'd', DatagramShapes.IsKrpc(packet));
            Assert.False(DatagramShapes.IsUtp(packet) && DatagramShapes.IsKrpc(packet));
        }
        Assert.False(DatagramShapes.IsUtp(Utp(0x41, 19))); // shorter than a uTP header
        Assert.False(DatagramShapes.IsKrpc([]));
    }

    [Fact]
    public async Task EachProtocolGetsItsDatagramsAndTheRestIsCounted()
    {
        await using UdpSocket socket = UdpSocket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var dht = new Recorder();
        var utp = new Recorder();
        await using UdpClaim krpcClaim = socket.Claim("KRPC", DatagramShapes.IsKrpc, dht, queueCapacity: 64);
        await using UdpClaim utpClaim = socket.Claim("uTP", DatagramShapes.IsUtp, utp);
        using Socket client = Client();
        for (int i = 0; i < 10; i++)
        {
            client.SendTo(Krpc("k" + i), socket.LocalEndPoint);
            client.SendTo(Utp(0x41, 20 + i), socket.LocalEndPoint);
        }
        client.SendTo(new byte[] { 0 }, socket.LocalEndPoint);
        client.SendTo(Utp(0x01, 10), socket.LocalEndPoint); // too short for uTP
        client.SendTo(Utp(0x51, 30), socket.LocalEndPoint); // type 5 does not exist
        await Eventually.TrueAsync(() => socket.Counters.Received == 23, Patience, () => $"received {socket.Counters}");
        await Eventually.TrueAsync(() => dht.Received.Count == 10, Patience, "the KRPC claim never got its 10 datagrams");
        Assert.Equal(10, utp.Received.Count);
        Assert.Equal(3, socket.Counters.Unclaimed);
        Assert.All(dht.Received, r => Assert.Equal((byte)'d', r.Datagram[0]));
        Assert.Equal(Enumerable.Range(0, 10).Select(i => 20 + i), utp.Received.Select(r => r.Datagram.Length)); // in order, whole
        Assert.All(dht.Received.Concat(utp.Received), r => Assert.Equal(client.LocalEndPoint, r.Source));
        Assert.Same(utp.Received[0].Source, utp.Received[9].Source); // one cached endpoint per sender: no allocation per datagram
        Assert.Equal(10, krpcClaim.Received);
        Assert.Equal(10, utpClaim.Received);
        Assert.Equal("idle", utp.Events[^1]); // a burst ends with "nothing more waiting"
    }

    [Fact]
    public async Task ProtocolsSendThroughTheSharedPort()
    {
        await using UdpSocket socket = UdpSocket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        await using UdpClaim claim = socket.Claim("uTP", DatagramShapes.IsUtp, new Recorder());
        using Socket client = Client();
        Assert.True(claim.Send(Utp(0x21, 24), (IPEndPoint)client.LocalEndPoint!));
        Assert.True(socket.Send(Krpc("s"), new IPEndPoint(IPAddress.Loopback.MapToIPv6(), ((IPEndPoint)client.LocalEndPoint!).Port))); // IPv4-mapped is IPv4
        byte[] buffer = new byte[64];
        EndPoint from = new IPEndPoint(IPAddress.Any, 0);
        client.ReceiveTimeout = 10_000;
        Assert.Equal(24, client.ReceiveFrom(buffer, ref from));
        Assert.Equal(socket.LocalEndPoint, from);
        Assert.Equal(Krpc("s").Length, client.ReceiveFrom(buffer, ref from));
        Assert.Equal((byte)'d', buffer[0]);
        Assert.False(socket.Send(Krpc("x"), new IPEndPoint(IPAddress.IPv6Loopback, 9))); // another family: dropped, counted
        Assert.Equal(2, socket.Counters.Sent);
        Assert.Equal(1, socket.Counters.SendFailures);
    }

    [Fact]
    public async Task AQueuedProtocolThatStallsIsBoundedAndDoesNotHoldUpTheOthers()
    {
        await using UdpSocket socket = UdpSocket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        using var stuck = new ManualResetEventSlim(false);
        var dht = new Recorder { Block = stuck };
        var utp = new Recorder();
        await using UdpClaim krpcClaim = socket.Claim("KRPC", DatagramShapes.IsKrpc, dht, queueCapacity: 4);
        await using UdpClaim utpClaim = socket.Claim("uTP", DatagramShapes.IsUtp, utp);
        using Socket client = Client();
        for (int i = 0; i < 200; i++) client.SendTo(Krpc("f" + i), socket.LocalEndPoint); // a flood while the DHT is stuck
        for (int i = 0; i < 10; i++) client.SendTo(Utp(0x01, 20), socket.LocalEndPoint);
        await Eventually.TrueAsync(() => utp.Received.Count == 10, Patience, "uTP was held up by a stuck DHT");
        await Eventually.TrueAsync(() => krpcClaim.Received == 200, Patience, () => $"KRPC routed {krpcClaim.Received}");
        Assert.InRange(krpcClaim.Dropped, 195, 196); // one in the handler, four queued (a fifth may be on its way in)
        stuck.Set();
        await Eventually.TrueAsync(() => dht.Received.Count == 200 - krpcClaim.Dropped, Patience, "the queued datagrams never arrived");
        Assert.Equal("d1:t2:f0e", System.Text.Encoding.ASCII.GetString(dht.Received[0].Datagram));
    }

    [Fact]
    public async Task AProtocolThatThrowsDoesNotTakeThePortFromTheOthers()
    {
        var log = new List<string>();
        await using UdpSocket socket = UdpSocket.Bind(new IPEndPoint(IPAddress.Loopback, 0), m => { lock (log) log.Add(m); });
        var broken = new Recorder { Throw = true };
        var healthy = new Recorder();
        await using UdpClaim a = socket.Claim("uTP", DatagramShapes.IsUtp, broken);
        await using UdpClaim b = socket.Claim("KRPC", DatagramShapes.IsKrpc, healthy);
        using Socket client = Client();
        for (int i = 0; i < 5; i++)
        {
            client.SendTo(Utp(0x11), socket.LocalEndPoint);
            client.SendTo(Krpc("h" + i), socket.LocalEndPoint);
        }
        await Eventually.TrueAsync(() => healthy.Received.Count == 5 && broken.Received.Count == 5, Patience, "datagrams were lost after a handler threw");
        Assert.Equal(5, socket.Counters.HandlerErrors);
        lock (log) Assert.Contains(log, m => m.Contains("uTP handler failed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ClaimsAndSocketsCloseAsynchronouslyAndCleanly()
    {
        UdpSocket socket = UdpSocket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var dht = new Recorder();
        var utp = new Recorder();
        UdpClaim krpcClaim = socket.Claim("KRPC", DatagramShapes.IsKrpc, dht, queueCapacity: 16);
        UdpClaim utpClaim = socket.Claim("uTP", DatagramShapes.IsUtp, utp);
        using Socket client = Client();

        await krpcClaim.DisposeAsync().AsTask().WaitAsync(Patience); // the DHT leaves; uTP stays
        client.SendTo(Krpc("gone"), socket.LocalEndPoint);
        client.SendTo(Utp(0x41), socket.LocalEndPoint);
        await Eventually.TrueAsync(() => utp.Received.Count == 1, Patience, "uTP stopped when the DHT left");
        await Eventually.TrueAsync(() => socket.Counters.Unclaimed == 1, Patience, "the KRPC datagram was not dropped as unclaimed");
        Assert.False(krpcClaim.Send(Krpc("late"), (IPEndPoint)client.LocalEndPoint!));
        Assert.Empty(dht.Received);

        await socket.DisposeAsync().AsTask().WaitAsync(Patience);
        Assert.False(socket.Send(Utp(0x41), (IPEndPoint)client.LocalEndPoint!));
        Assert.Throws<ObjectDisposedException>(() => socket.Claim("again", DatagramShapes.IsUtp, utp));
        await utpClaim.DisposeAsync(); // twice is harmless
        using var rebind = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        rebind.Bind(socket.LocalEndPoint); // the port is free again
    }

    [Fact]
    public async Task TheDhtAndAnotherProtocolShareOnePortThroughTheSession()
    {
        await using UdpSocketPair udp = UdpSocketPair.Bind(IPAddress.Loopback, null, 0);
        Assert.Null(udp.Ipv6);
        var options = new DhtNodeOptions { Port = 0, BindAddress = IPAddress.Loopback, BootstrapNodes = [] };
        var utp = new Recorder();
        await using UdpClaim utpClaim = udp.Ipv4!.Claim("uTP", DatagramShapes.IsUtp, utp);
        await using (var dht = new DualStackDht(options, null, udp))
        {
            await dht.StartAsync();
            Assert.Equal(udp.Ipv4.LocalEndPoint, dht.LocalEndPoint); // one port for both
            await using var other = new DhtNode(new DhtNodeOptions { Port = 0, BindAddress = IPAddress.Loopback, BootstrapNodes = [] });
            await other.StartAsync();
            using var timeout = new CancellationTokenSource(Patience);
            Assert.Equal(dht.Ipv4Node!.Id, await other.PingAsync(udp.Ipv4.LocalEndPoint, timeout.Token));
            using Socket client = Client();
            client.SendTo(Utp(0x41), udp.Ipv4.LocalEndPoint);
            await Eventually.TrueAsync(() => utp.Received.Count == 1, Patience, "uTP datagram lost beside the DHT");
        }
        // The DHT is gone, the port is not: uTP keeps it.
        using Socket again = Client();
        again.SendTo(Utp(0x41), udp.Ipv4.LocalEndPoint);
        await Eventually.TrueAsync(() => utp.Received.Count == 2, Patience, "the port closed with the DHT");
    }

    [Fact]
    public async Task APairSharesOnePortNumberAcrossFamilies()
    {
        UdpSocketPair udp;
        try
        {
            udp = UdpSocketPair.Bind(IPAddress.Loopback, IPAddress.IPv6Loopback, 0);
        }
        catch (SocketException)
        {
            return; // no loopback at all: nothing to check
        }
        await using (udp)
        {
            if (udp.Ipv6 is null) return; // a host without IPv6: IPv4 alone is the right answer
            Assert.Equal(udp.Ipv4!.LocalEndPoint.Port, udp.Ipv6.LocalEndPoint.Port);
            Assert.Equal(AddressFamily.InterNetworkV6, udp.Ipv6.AddressFamily);
        }
        Assert.Throws<ArgumentException>(() => UdpSocketPair.Bind(IPAddress.IPv6Loopback, null, 0));
    }
}
