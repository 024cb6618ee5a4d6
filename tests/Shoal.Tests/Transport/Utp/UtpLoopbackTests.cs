using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Shoal.Transport;
using Shoal.Transport.Udp;
using Shoal.Transport.Utp;

namespace Shoal.Tests.Transport.Utp;

/// <summary>Two multiplexers on 127.0.0.1, real UDP sockets, real threads.</summary>
public sealed class UtpLoopbackTests
{
    private static readonly IPEndPoint AnyLoopback = new(IPAddress.Loopback, 0);

    internal static async Task<(UtpMultiplexer Server, UtpMultiplexer Client)> StartPairAsync(UtpOptions? options = null)
    {
        UtpMultiplexer server = UtpMultiplexer.Bind(AnyLoopback, options);
        UtpMultiplexer client = UtpMultiplexer.Bind(AnyLoopback, options);
        await Task.CompletedTask;
        return (server, client);
    }

    internal static async Task<(UtpTransport Dialled, UtpTransport Accepted)> ConnectAsync(UtpMultiplexer server, UtpMultiplexer client)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        ValueTask<UtpTransport> accept = server.AcceptAsync(timeout.Token);
        UtpTransport dialled = await client.ConnectAsync(server.LocalEndPoint, timeout.Token);
        UtpTransport accepted = await accept;
        return (dialled, accepted);
    }

    /// <summary>Writes <paramref name="length"/> pseudo-random bytes (from <paramref name="seed"/>) in chunks, hashing them.</summary>
    internal static async Task<byte[]> WriteRandomAsync(PipeWriter output, long length, int seed, int chunk = 16 * 1024 + 13)
    {
        var random = new Random(seed);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long written = 0;
        while (written < length)
        {
            int n = (int)Math.Min(chunk, length - written);
            Memory<byte> memory = output.GetMemory(n);
            Span<byte> span = memory.Span[..n];
            random.NextBytes(span);
            hash.AppendData(span);
            output.Advance(n);
            written += n;
            FlushResult flush = await output.FlushAsync();
            if (flush.IsCompleted) throw new IOException("the peer stopped reading");
        }
        return hash.GetHashAndReset();
    }

    /// <summary>Reads until the peer closes; returns the byte count and their SHA-256.</summary>
    internal static async Task<(long Length, byte[] Sha256)> ReadToEndAsync(PipeReader input)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long length = 0;
        while (true)
        {
            ReadResult result = await input.ReadAsync();
            foreach (ReadOnlyMemory<byte> segment in result.Buffer)
            {
                hash.AppendData(segment.Span);
                length += segment.Length;
            }
            input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted) return (length, hash.GetHashAndReset());
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task TransfersIntactOverEitherSystemCallPath(bool portable)
    {
        // The batched Linux calls (sendmmsg with GSO, recvmmsg with GRO) by default; one datagram per call when portable.
        Func<Socket, IUdpBatchIo>? io = portable ? socket => new ManagedUdpBatchIo(socket) : null;
        await using UdpSocket serverSocket = UdpSocket.Bind(AnyLoopback, io);
        await using UdpSocket clientSocket = UdpSocket.Bind(AnyLoopback, io);
        await using var server = new UtpMultiplexer(serverSocket);
        await using var client = new UtpMultiplexer(clientSocket);
        var (dialled, accepted) = await ConnectAsync(server, client);
        const long length = 16L << 20;
        Task<(long Length, byte[] Sha256)> read = ReadToEndAsync(accepted.Input);
        byte[] written = await WriteRandomAsync(dialled.Output, length, seed: 31);
        await dialled.Output.CompleteAsync();
        var (received, hash) = await read.WaitAsync(TimeSpan.FromMinutes(2));
        Assert.Equal(length, received);
        Assert.Equal(written, hash);
        UtpConnectionStatistics stats = client.Statistics;
        Assert.True(stats.PacketsSent > length / 1500, $"{stats.PacketsSent} packets");
        if (portable) Assert.IsType<ManagedUdpBatchIo>(serverSocket.BatchIo);
        await dialled.DisposeAsync();
        await accepted.DisposeAsync();
    }

    [Fact]
    public async Task DialAcceptAndTalkBothWays()
    {
        var (server, client) = await StartPairAsync();
        await using (server)
        await using (client)
        {
            var (dialled, accepted) = await ConnectAsync(server, client);
            Assert.Equal(client.LocalEndPoint.Port, accepted.RemoteEndPoint.Port);
            Assert.Equal(server.LocalEndPoint, dialled.RemoteEndPoint);

            await dialled.Output.WriteAsync("hello over uTP"u8.ToArray());
            ReadResult hello = await accepted.Input.ReadAtLeastAsync(14);
            Assert.Equal("hello over uTP", System.Text.Encoding.ASCII.GetString(hello.Buffer.Slice(0, 14).ToArray()));
            accepted.Input.AdvanceTo(hello.Buffer.GetPosition(14));

            await accepted.Output.WriteAsync("and back"u8.ToArray());
            ReadResult back = await dialled.Input.ReadAtLeastAsync(8);
            Assert.Equal("and back", System.Text.Encoding.ASCII.GetString(back.Buffer.Slice(0, 8).ToArray()));
            dialled.Input.AdvanceTo(back.Buffer.GetPosition(8));

            await dialled.DisposeAsync();
            var rest = await ReadToEndAsync(accepted.Input); // the dialler's FIN completes the input cleanly
            Assert.Equal(0, rest.Length);
            await accepted.DisposeAsync();
        }
    }

    [Fact]
    public async Task Moves64MiBIntactOverLoopback()
    {
        const long Length = 64L * 1024 * 1024;
        using var pool = new BlockMemoryPool();
        var (server, client) = await StartPairAsync(new UtpOptions { Memory = pool });
        await using (server)
        await using (client)
        {
            var (dialled, accepted) = await ConnectAsync(server, client);
            Task<(long Length, byte[] Sha256)> read = ReadToEndAsync(accepted.Input);
            Task<(long Length, byte[] Sha256)> readBack = ReadToEndAsync(dialled.Input);
            Task<byte[]> writeBack = WriteRandomAsync(accepted.Output, 4L * 1024 * 1024, seed: 65);
            byte[] sent = await WriteRandomAsync(dialled.Output, Length, seed: 64);
            byte[] sentBack = await writeBack;
            // Each side closes its sending half (FIN) and reads on until the other's FIN.
            await dialled.Output.CompleteAsync();
            await accepted.Output.CompleteAsync();
            var (length, received) = await read.WaitAsync(TimeSpan.FromMinutes(5));
            var (lengthBack, receivedBack) = await readBack.WaitAsync(TimeSpan.FromMinutes(5));
            await accepted.DisposeAsync();
            await dialled.DisposeAsync();
            Assert.Equal(Length, length);
            Assert.Equal(sent, received);
            Assert.Equal(4L * 1024 * 1024, lengthBack);
            Assert.Equal(sentBack, receivedBack);
            UtpConnectionStatistics stats = client.Statistics;
            Assert.True(stats.PayloadBytesSent >= Length);
        }
    }

    [Fact]
    public async Task ManyConnectionsShareOnePort()
    {
        const int Connections = 24;
        const long Length = 512 * 1024;
        var (server, client) = await StartPairAsync();
        await using (server)
        await using (client)
        {
            var pairs = new List<(UtpTransport Dialled, UtpTransport Accepted)>();
            for (int i = 0; i < Connections; i++) pairs.Add(await ConnectAsync(server, client));
            Assert.Equal(Connections, server.ConnectionCount);
            Assert.Equal(Connections, client.ConnectionCount);

            var transfers = pairs.Select(async (pair, i) =>
            {
                Task<(long Length, byte[] Sha256)> read = ReadToEndAsync(pair.Accepted.Input);
                byte[] sent = await WriteRandomAsync(pair.Dialled.Output, Length, seed: i);
                await pair.Dialled.DisposeAsync();
                var (length, received) = await read;
                await pair.Accepted.DisposeAsync();
                return length == Length && sent.AsSpan().SequenceEqual(received);
            }).ToList();
            bool[] results = await Task.WhenAll(transfers).WaitAsync(TimeSpan.FromMinutes(3));
            Assert.All(results, Assert.True);
            await Eventually.TrueAsync(() => server.ConnectionCount == 0 && client.ConnectionCount == 0, TimeSpan.FromSeconds(20), () => $"{server.ConnectionCount} and {client.ConnectionCount} connections left");
        }
    }

    [Fact]
    public async Task DisposeDeliversWhatWasWrittenThenEndsCleanly()
    {
        var (server, client) = await StartPairAsync();
        await using (server)
        await using (client)
        {
            var (dialled, accepted) = await ConnectAsync(server, client);
            Task<(long Length, byte[] Sha256)> read = ReadToEndAsync(accepted.Input);
            byte[] sent = await WriteRandomAsync(dialled.Output, 3 * 1024 * 1024, seed: 7);
            await dialled.DisposeAsync(); // at once: the data still in the pipe must go out before the FIN
            var (length, received) = await read.WaitAsync(TimeSpan.FromMinutes(1));
            Assert.Equal(3 * 1024 * 1024, length);
            Assert.Equal(sent, received);
            await accepted.DisposeAsync();
        }
    }

    [Fact]
    public async Task AbortResetsThePeer()
    {
        var (server, client) = await StartPairAsync();
        await using (server)
        await using (client)
        {
            var (dialled, accepted) = await ConnectAsync(server, client);
            dialled.Abort();
            ValueTask<ReadResult> pending = accepted.Input.ReadAsync();
            var error = await Assert.ThrowsAsync<IOException>(async () => await pending.AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
            Assert.Contains("reset", error.Message, StringComparison.Ordinal);
            await Assert.ThrowsAsync<IOException>(async () => await dialled.Input.ReadAsync());

            // The peer is gone: a flush reports completion or throws, it does not hang.
            accepted.Output.Write(new byte[100]);
            try
            {
                FlushResult flush = await accepted.Output.FlushAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
                Assert.True(flush.IsCompleted);
            }
            catch (IOException)
            {
            }
            await accepted.DisposeAsync();
            await dialled.DisposeAsync();
        }
    }

    [Fact]
    public async Task ADialNobodyAnswersTimesOut()
    {
        var options = new UtpOptions { ConnectTimeout = TimeSpan.FromMilliseconds(800) };
        await using UtpMultiplexer client = UtpMultiplexer.Bind(AnyLoopback, options);
        await using UtpMultiplexer deaf = UtpMultiplexer.Bind(AnyLoopback, options with { AcceptIncoming = false });
        await Assert.ThrowsAsync<TimeoutException>(async () => await client.ConnectAsync(deaf.LocalEndPoint));
        Assert.Equal(0, client.ConnectionCount);
        Assert.Equal(0, deaf.ConnectionCount);
    }

    [Fact]
    public async Task DisposingAMultiplexerResetsItsConnections()
    {
        var (server, client) = await StartPairAsync();
        await using (client)
        {
            var (dialled, accepted) = await ConnectAsync(server, client);
            ValueTask<ReadResult> pending = dialled.Input.ReadAsync();
            await server.DisposeAsync();
            await Assert.ThrowsAsync<IOException>(async () => await pending.AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
            await Assert.ThrowsAsync<IOException>(async () => await accepted.Input.ReadAsync());
            await dialled.DisposeAsync();
            await accepted.DisposeAsync();
        }
    }

    [Fact]
    public async Task APeerThatRestartedResetsTheConnection()
    {
        UdpSocket udp = UdpSocket.Bind(AnyLoopback);
        var sender = new MutableSender(udp);
        var server = new UtpMultiplexer(sender, options: null);
        UdpClaim claim = udp.Claim("uTP", DatagramShapes.IsUtp, server);
        IPEndPoint address = server.LocalEndPoint;
        await using UtpMultiplexer client = UtpMultiplexer.Bind(AnyLoopback);
        var (dialled, accepted) = await ConnectAsync(server, client);
        // The server process dies without a word; a new one binds the same port and knows no connection.
        sender.Muted = true;
        await server.DisposeAsync();
        await claim.DisposeAsync();
        await udp.DisposeAsync();
        await using UtpMultiplexer restarted = UtpMultiplexer.Bind(address);

        dialled.Output.Write(new byte[1000]);
        _ = dialled.Output.FlushAsync();
        await Assert.ThrowsAsync<IOException>(async () => await dialled.Input.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        await dialled.DisposeAsync();
        await accepted.DisposeAsync();
    }

    [Fact]
    public async Task ADialToAnotherAddressFamilyFailsAtOnce()
    {
        await using UtpMultiplexer client = UtpMultiplexer.Bind(AnyLoopback);
        var error = await Assert.ThrowsAsync<System.Net.Sockets.SocketException>(async () => await client.ConnectAsync(IPEndPoint.Parse("[::1]:6881")));
        Assert.Equal(System.Net.Sockets.SocketError.AddressFamilyNotSupported, error.SocketErrorCode);
        Assert.Equal(0, client.ConnectionCount);
    }

    [Fact]
    public async Task TheAcceptBacklogIsBounded()
    {
        var options = new UtpOptions { AcceptBacklog = 2, ConnectTimeout = TimeSpan.FromMilliseconds(800) };
        var (server, client) = await StartPairAsync(options);
        await using (server)
        await using (client)
        {
            UtpTransport first = await client.ConnectAsync(server.LocalEndPoint);
            UtpTransport second = await client.ConnectAsync(server.LocalEndPoint);
            await Assert.ThrowsAsync<TimeoutException>(async () => await client.ConnectAsync(server.LocalEndPoint));
            await using UtpTransport accepted = await server.AcceptAsync();
            await using UtpTransport third = await client.ConnectAsync(server.LocalEndPoint); // room again
            await first.DisposeAsync();
            await second.DisposeAsync();
        }
    }

    [Fact]
    public async Task JunkDatagramsAreCountedAndIgnored()
    {
        var (server, client) = await StartPairAsync();
        await using (server)
        await using (client)
        {
            using var junk = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork,
                System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp);
            var random = new Random(5);
            for (int i = 0; i < 200; i++)
            {
                // Shaped like uTP (so the shared port routes it here) but broken: a data packet without data, or an
                // extension chain that runs off the end.
                byte[] datagram = new byte[UtpPacket.HeaderLength + (i % 2) * 3];
                random.NextBytes(datagram);
                datagram[0] = 0x01;
                datagram[1] = (byte)(i % 2);
                junk.SendTo(datagram, server.LocalEndPoint);
                // Not uTP at all: the socket leaves it unclaimed, the multiplexer never sees it.
                junk.SendTo("d1:y1:qe"u8.ToArray(), server.LocalEndPoint);
            }
            var (dialled, accepted) = await ConnectAsync(server, client);
            await Eventually.TrueAsync(() => server.InvalidDatagrams == 200, TimeSpan.FromSeconds(10), () => $"{server.InvalidDatagrams} invalid datagrams counted");
            await dialled.DisposeAsync();
            await accepted.DisposeAsync();
        }
    }

    /// <summary>Sends through a UDP socket until silenced, to play a process that dies without closing anything.</summary>
    private sealed class MutableSender(UdpSocket socket) : IUtpDatagramSender
    {
        public bool Muted { get; set; }

        public IPEndPoint LocalEndPoint => socket.LocalEndPoint;

        public bool Send(ReadOnlySpan<byte> datagram, IPEndPoint destination) => !Muted && socket.Send(datagram, destination);
    }
}
