using System.Net;
using System.Net.Sockets;
using Shoal.Transport.Udp;

namespace Shoal.Tests.Transport;

/// <summary>
/// The two <see cref="IUdpBatchIo"/> paths (Linux sendmmsg/GSO and recvmmsg/GRO; the portable one) over real sockets on
/// 127.0.0.1: what goes in a batch comes out intact, in order, one datagram each, whatever the path coalesced.
/// </summary>
public sealed class UdpBatchIoTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    public static TheoryData<string> Paths => new() { "managed", "linux" };

    /// <summary>The path's I/O for <paramref name="socket"/>; null when the platform has no such path (then the test has nothing to check).</summary>
    private static IUdpBatchIo? Io(string path, Socket socket) => path switch
    {
        "managed" => new ManagedUdpBatchIo(socket),
        _ when OperatingSystem.IsLinux() && Environment.Is64BitProcess => new LinuxUdpBatchIo(socket, log: null),
        _ => null,
    };

    private static Socket Bound()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        socket.ReceiveBufferSize = 4 * 1024 * 1024;
        return socket;
    }

    /// <summary>
    /// Datagrams as uTP sends them: runs of one size with an MTU probe (larger) and short ones in between; each starts
    /// with its index so order and content can be checked.
    /// </summary>
    private static List<byte[]> Datagrams(int count, int seed)
    {
        var random = new Random(seed);
        var datagrams = new List<byte[]>();
        for (int i = 0; i < count; i++)
        {
            int length = i % 37 == 20 ? 1472 : i % 23 == 22 ? 300 + i : 1400;
            byte[] datagram = new byte[length];
            random.NextBytes(datagram);
            datagram[0] = (byte)(i >> 8);
            datagram[1] = (byte)i;
            datagrams.Add(datagram);
        }
        return datagrams;
    }

    /// <summary>The datagrams as a batch, each at an offset in a larger buffer (as uTP's padded probes are).</summary>
    private static OutgoingDatagram[] Batch(List<byte[]> datagrams) =>
        [.. datagrams.Select((d, i) =>
        {
            int offset = i % 3;
            byte[] buffer = new byte[d.Length + offset + 5];
            d.CopyTo(buffer, offset);
            return new OutgoingDatagram(buffer, offset, d.Length);
        })];

    private sealed class Collector : IReceivedDatagramSink
    {
        public List<(byte[] Datagram, SocketAddress Source)> Received { get; } = [];

        public void OnReceived(ReadOnlySpan<byte> datagram, SocketAddress source)
        {
            var copy = new SocketAddress(source.Family, source.Size);
            source.Buffer.Span[..source.Size].CopyTo(copy.Buffer.Span);
            Received.Add((datagram.ToArray(), copy));
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void ABatchArrivesIntactInOrderOneDatagramEach(string path)
    {
        using Socket sender = Bound();
        using Socket receiver = Bound();
        using IUdpBatchIo? io = Io(path, sender);
        if (io is null) return;
        List<byte[]> datagrams = Datagrams(300, seed: 1);

        int sent = io.Send(Batch(datagrams), receiver.LocalEndPoint!.Serialize());

        Assert.Equal(datagrams.Count, sent);
        byte[] buffer = new byte[65536];
        receiver.ReceiveTimeout = (int)Patience.TotalMilliseconds;
        foreach (byte[] expected in datagrams)
        {
            EndPoint from = new IPEndPoint(IPAddress.Any, 0);
            int n = receiver.ReceiveFrom(buffer, ref from);
            Assert.Equal(expected, buffer.AsSpan(0, n).ToArray());
            Assert.Equal(sender.LocalEndPoint, from);
        }
        Assert.Equal(0, receiver.Available);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public async Task ABurstIsReceivedWholeAndCoalescedRunsAreCutApart(string path)
    {
        using Socket sender = Bound();
        using Socket receiver = Bound();
        using IUdpBatchIo? io = Io(path, receiver);
        if (io is null) return;
        // The sender segments runs where it can (so a GRO receiver gets them coalesced), and plain datagrams too.
        using IUdpBatchIo senderIo = Io("linux", sender) ?? new ManagedUdpBatchIo(sender);
        List<byte[]> datagrams = Datagrams(200, seed: 2);
        Assert.Equal(150, senderIo.Send(Batch(datagrams[..150]), receiver.LocalEndPoint!.Serialize()));
        foreach (byte[] datagram in datagrams[150..]) sender.SendTo(datagram, receiver.LocalEndPoint!);

        var collector = new Collector();
        DateTime deadline = DateTime.UtcNow + Patience;
        while (collector.Received.Count < datagrams.Count && DateTime.UtcNow < deadline)
        {
            int n = io.Receive(collector, out bool drained);
            if (n == 0) await Task.Delay(10);
            Assert.True(n > 0 || drained, "nothing received and the queue not empty");
        }

        Assert.Equal(datagrams.Count, collector.Received.Count);
        SocketAddress expectedSource = sender.LocalEndPoint!.Serialize();
        for (int i = 0; i < datagrams.Count; i++)
        {
            Assert.Equal(datagrams[i], collector.Received[i].Datagram);
            Assert.Equal(expectedSource, collector.Received[i].Source);
        }
        Assert.Equal(0, io.Receive(collector, out bool empty));
        Assert.True(empty);
    }

    [Fact]
    public void TheLinuxPathSegmentsAndCoalescesOnThisKernel()
    {
        if (!OperatingSystem.IsLinux() || !Environment.Is64BitProcess) return;
        using Socket socket = Bound();
        using var io = new LinuxUdpBatchIo(socket, log: null);
        // Linux 4.18 brought UDP_SEGMENT, 5.0 UDP_GRO: every kernel this runs on has both, so the fast path must be on.
        Assert.True(io.SegmentsSends, io.Description);
        Assert.True(io.CoalescesReceives, io.Description);
        Assert.True(io.ReceivesEverything); // a coalesced run must never reach a plain read
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void ABatchToAClosedSocketSendsNothingAndDoesNotThrow(string path)
    {
        Socket sender = Bound();
        using Socket receiver = Bound();
        using IUdpBatchIo? io = Io(path, sender);
        if (io is null)
        {
            sender.Dispose();
            return;
        }
        sender.Dispose();
        Assert.Equal(0, io.Send(Batch(Datagrams(10, seed: 3)), receiver.LocalEndPoint!.Serialize()));
        Assert.Equal(0, io.Receive(new Collector(), out _));
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public async Task TheSharedSocketDeliversEveryDatagramOfABurstThenReportsIdle(string path)
    {
        await using UdpSocket socket = UdpSocket.Bind(new IPEndPoint(IPAddress.Loopback, 0),
            s => Io(path, s) ?? new ManagedUdpBatchIo(s));
        var handler = new CountingHandler();
        socket.Claim("uTP", DatagramShapes.IsUtp, handler);
        using Socket peer = Bound();
        List<byte[]> datagrams = Datagrams(120, seed: 4);
        foreach (byte[] datagram in datagrams) datagram[0] = 0x01; // uTP-shaped (type DATA, version 1)

        // Through the shared socket's batch send to the peer, and back from the peer one by one.
        int sent = socket.SendBatch(Batch(datagrams), (IPEndPoint)peer.LocalEndPoint!);
        Assert.Equal(datagrams.Count, sent);
        byte[] buffer = new byte[65536];
        peer.ReceiveTimeout = (int)Patience.TotalMilliseconds;
        for (int i = 0; i < datagrams.Count; i++)
        {
            int n = peer.Receive(buffer);
            Assert.Equal(datagrams[i], buffer.AsSpan(0, n).ToArray());
            peer.SendTo(buffer.AsSpan(0, n), socket.LocalEndPoint);
        }

        await Eventually.TrueAsync(() => handler.Count == datagrams.Count && handler.IdleAfterLast, Patience,
            () => $"{handler.Count} of {datagrams.Count} datagrams, idle after the last: {handler.IdleAfterLast}");
        Assert.Equal(datagrams.Select(d => d.Length).Sum(), handler.Bytes);
        Assert.Equal(datagrams.Count, socket.Counters.Sent);
        Assert.Equal(0, socket.Counters.SendFailures);
    }

    private sealed class CountingHandler : IUdpDatagramHandler
    {
        private int _count;
        private long _bytes;
        private volatile bool _idleAfterLast;

        public int Count => Volatile.Read(ref _count);

        public long Bytes => Interlocked.Read(ref _bytes);

        public bool IdleAfterLast => _idleAfterLast;

        public void OnDatagram(ReadOnlySpan<byte> datagram, IPEndPoint source)
        {
            _idleAfterLast = false;
            Interlocked.Add(ref _bytes, datagram.Length);
            Interlocked.Increment(ref _count);
        }

        public void OnReceiveIdle() => _idleAfterLast = true;
    }
}
