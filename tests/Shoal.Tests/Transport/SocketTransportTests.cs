using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Shoal.Transport;
using Shoal.Wire;

namespace Shoal.Tests.Transport;

public sealed class SocketTransportTests
{
    private static readonly IPEndPoint AnyLoopback = new(IPAddress.Loopback, 0);

    private static async Task<(SocketTransport Client, SocketTransport Server, PeerListener Listener)> ConnectPairAsync(
        MemoryPool<byte>? pool = null)
    {
        var listener = PeerListener.Start(AnyLoopback, 16, pool);
        ValueTask<SocketTransport> accept = listener.AcceptAsync(CancellationToken.None);
        SocketTransport client = await SocketTransport.ConnectAsync(listener.LocalEndPoint, TimeSpan.FromSeconds(30), pool, CancellationToken.None);
        SocketTransport server = await accept;
        return (client, server, listener);
    }

    /// <summary>Reads everything until the peer closes; returns the bytes.</summary>
    private static async Task<byte[]> ReadToEndAsync(PipeReader input)
    {
        var all = new ArrayBufferWriter<byte>();
        while (true)
        {
            ReadResult result = await input.ReadAsync();
            foreach (ReadOnlyMemory<byte> segment in result.Buffer) all.Write(segment.Span);
            input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted) return all.WrittenSpan.ToArray();
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Moves64MiBOfPieceMessagesIntact(bool blockPool)
    {
        const int BlockLength = 16384;
        const int Blocks = 64 * 1024 * 1024 / BlockLength;
        byte[] pattern = new byte[BlockLength + 256];
        new Random(1).NextBytes(pattern);

        using var pool = new BlockMemoryPool();
        var (client, server, listener) = await ConnectPairAsync(blockPool ? pool : null);
        await using var ownedListener = listener;
        await using var ownedServer = server;

        Task send = Task.Run(async () =>
        {
            await using (client)
            {
                for (int i = 0; i < Blocks; i++)
                {
                    PeerMessageWriter.WritePieceHeader(client.Output, i / 16, i % 16 * BlockLength, BlockLength);
                    // Write the block straight into the pipe's memory, as a disk read would.
                    int written = 0;
                    while (written < BlockLength)
                    {
                        Span<byte> span = client.Output.GetSpan();
                        int n = Math.Min(span.Length, BlockLength - written);
                        pattern.AsSpan(i % 256 + written, n).CopyTo(span);
                        client.Output.Advance(n);
                        written += n;
                    }

                    if (i % 8 == 7) await client.Output.FlushAsync();
                }

                await client.Output.FlushAsync();
            } // dispose right away: it must still deliver everything written
        });

        var reader = new PeerMessageReader(Blocks / 16);
        byte[] scratch = new byte[BlockLength];
        int received = 0;
        long bytes = 0;
        while (true)
        {
            ReadResult result = await server.Input.ReadAsync();
            ReadOnlySequence<byte> buffer = result.Buffer;
            while (reader.TryRead(ref buffer, out PeerMessage message))
            {
                Assert.Equal(MessageId.Piece, message.Id);
                Assert.Equal(received / 16, message.Index);
                Assert.Equal(received % 16 * BlockLength, message.Begin);
                Assert.Equal(BlockLength, message.Length);
                message.Payload.CopyTo(scratch);
                Assert.True(scratch.AsSpan().SequenceEqual(pattern.AsSpan(received % 256, BlockLength)), $"block {received} differs");
                received++;
                bytes += message.Length;
            }

            server.Input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                Assert.True(buffer.IsEmpty, "stream ended inside a frame");
                break;
            }
        }

        await send;
        Assert.Equal(Blocks, received);
        Assert.Equal(64L * 1024 * 1024, bytes);
        if (blockPool) Assert.True(pool.IdleBlocks > 0, "buffers never came back to the pool");
    }

    [Fact]
    public async Task BothDirectionsWorkAndCleanCloseCompletesInputWithoutError()
    {
        var (client, server, listener) = await ConnectPairAsync();
        await using var ownedListener = listener;
        await using var ownedServer = server;

        new Shoal.Wire.Handshake(new Shoal.Metainfo.InfoHash(new byte[20]), new byte[20], default).WriteTo(server.Output);
        await server.Output.FlushAsync();
        ReadResult fromServer = await client.Input.ReadAsync();
        while (fromServer.Buffer.Length < Shoal.Wire.Handshake.Length)
        {
            client.Input.AdvanceTo(fromServer.Buffer.Start, fromServer.Buffer.End);
            fromServer = await client.Input.ReadAsync();
        }

        ReadOnlySequence<byte> hs = fromServer.Buffer;
        Assert.True(Shoal.Wire.Handshake.TryParse(ref hs, out _));
        client.Input.AdvanceTo(hs.Start);
        Assert.Equal(listener.LocalEndPoint, client.RemoteEndPoint);
        Assert.Equal(IPAddress.Loopback, server.RemoteEndPoint.Address);

        await client.Output.WriteAsync("hello"u8.ToArray());
        await client.DisposeAsync();
        Assert.Equal("hello"u8.ToArray(), await ReadToEndAsync(server.Input));
    }

    [Fact]
    public async Task ResetByPeerEndsInputWithIOException()
    {
        await using var listener = PeerListener.Start(AnyLoopback);
        ValueTask<SocketTransport> accept = listener.AcceptAsync(CancellationToken.None);
        using var raw = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await raw.ConnectAsync(listener.LocalEndPoint);
        await using SocketTransport server = await accept;

        raw.LingerState = new LingerOption(true, 0); // close with RST
        raw.Close();

        await Assert.ThrowsAsync<IOException>(async () => await ReadToEndAsync(server.Input));
    }

    [Fact]
    public async Task WritingToAClosedPeerFailsWithoutHanging()
    {
        var (client, server, listener) = await ConnectPairAsync();
        await using var ownedListener = listener;
        await using var ownedServer = server;
        await client.DisposeAsync();
        Assert.Empty(await ReadToEndAsync(server.Input)); // clean FIN first

        byte[] chunk = new byte[64 * 1024];
        bool failed = false;
        for (int i = 0; i < 2000 && !failed; i++)
        {
            try
            {
                FlushResult flush = await server.Output.WriteAsync(chunk);
                failed = flush.IsCompleted;
            }
            catch (IOException)
            {
                failed = true;
            }
        }

        Assert.True(failed, "writes to a closed peer kept succeeding");
    }

    [Fact]
    public async Task AbortEndsLocalReadAndRemoteSeesTheEnd()
    {
        var (client, server, listener) = await ConnectPairAsync();
        await using var ownedListener = listener;
        await using var ownedServer = server;
        await using var ownedClient = client;

        ValueTask<ReadResult> pending = client.Input.ReadAsync();
        client.Abort();
        client.Abort(); // idempotent
        await Assert.ThrowsAsync<IOException>(async () => await pending);

        // The remote sees either a clean end or a reset, never a hang.
        try
        {
            await ReadToEndAsync(server.Input);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task ListenerRefusesAPortInUse()
    {
        await using var first = PeerListener.Start(AnyLoopback);
        Assert.NotEqual(0, first.LocalEndPoint.Port);
        Assert.Throws<SocketException>(() => PeerListener.Start(first.LocalEndPoint));
    }

    [Fact]
    public async Task ConnectToAClosedPortThrowsSocketException()
    {
        IPEndPoint endPoint;
        await using (var listener = PeerListener.Start(AnyLoopback)) endPoint = listener.LocalEndPoint;
        await Assert.ThrowsAsync<SocketException>(async () =>
            await SocketTransport.ConnectAsync(endPoint, TimeSpan.FromSeconds(30), CancellationToken.None));
    }

    [Fact]
    public async Task ConnectHonoursCancellation()
    {
        await using var listener = PeerListener.Start(AnyLoopback);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            await SocketTransport.ConnectAsync(listener.LocalEndPoint, TimeSpan.FromSeconds(30), new CancellationToken(true)));
    }

    [Fact]
    public async Task DisposingTheListenerEndsPendingAccept()
    {
        var listener = PeerListener.Start(AnyLoopback);
        ValueTask<SocketTransport> accept = listener.AcceptAsync(CancellationToken.None);
        await listener.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await accept);
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await listener.AcceptAsync(CancellationToken.None));
    }

    [Fact]
    public async Task AcceptHonoursCancellation()
    {
        await using var listener = PeerListener.Start(AnyLoopback);
        using var cts = new CancellationTokenSource();
        ValueTask<SocketTransport> accept = listener.AcceptAsync(cts.Token);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await accept);
    }
}
