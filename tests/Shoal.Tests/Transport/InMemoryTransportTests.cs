using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using Shoal.Transport;
using Shoal.Wire;

namespace Shoal.Tests.Transport;

public sealed class InMemoryTransportTests
{
    private static async Task<List<PeerMessage>> ReadMessagesAsync(PipeReader input, int count)
    {
        var reader = new PeerMessageReader(100);
        var messages = new List<PeerMessage>();
        while (messages.Count < count)
        {
            ReadResult result = await input.ReadAsync();
            ReadOnlySequence<byte> buffer = result.Buffer;
            // Payloads die with AdvanceTo; these tests only keep fixed fields.
            while (messages.Count < count && reader.TryRead(ref buffer, out PeerMessage m)) messages.Add(m with { Payload = default });
            input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted && messages.Count < count) throw new InvalidOperationException("ended early");
        }

        return messages;
    }

    [Fact]
    public async Task PairCarriesMessagesBothWays()
    {
        var (a, b) = InMemoryTransport.CreatePair(new IPEndPoint(IPAddress.Loopback, 2), new IPEndPoint(IPAddress.Loopback, 1));
        await using var ownedA = a;
        await using var ownedB = b;
        Assert.Equal(2, a.RemoteEndPoint.Port);
        Assert.Equal(1, b.RemoteEndPoint.Port);

        PeerMessageWriter.WriteInterested(a.Output);
        PeerMessageWriter.WriteRequest(a.Output, 3, 0, 16384);
        await a.Output.FlushAsync();
        PeerMessageWriter.WriteUnchoke(b.Output);
        PeerMessageWriter.WriteHave(b.Output, 99);
        await b.Output.FlushAsync();

        var atB = await ReadMessagesAsync(b.Input, 2);
        Assert.Equal(MessageId.Interested, atB[0].Id);
        Assert.Equal((MessageId.Request, 3, 16384), (atB[1].Id, atB[1].Index, atB[1].Length));
        var atA = await ReadMessagesAsync(a.Input, 2);
        Assert.Equal(MessageId.Unchoke, atA[0].Id);
        Assert.Equal(99, atA[1].Index);
    }

    [Fact]
    public async Task LargeTransferSurvivesBackpressure()
    {
        var (a, b) = InMemoryTransport.CreatePair();
        await using var ownedB = b;
        byte[] data = new byte[8 * 1024 * 1024];
        new Random(3).NextBytes(data);
        Task send = Task.Run(async () =>
        {
            await using (a)
            {
                for (int offset = 0; offset < data.Length; offset += 100_000)
                    await a.Output.WriteAsync(data.AsMemory(offset, Math.Min(100_000, data.Length - offset)));
            }
        });

        var received = new ArrayBufferWriter<byte>();
        while (true)
        {
            ReadResult result = await b.Input.ReadAsync();
            foreach (ReadOnlyMemory<byte> segment in result.Buffer) received.Write(segment.Span);
            b.Input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted) break;
        }

        await send;
        Assert.True(received.WrittenSpan.SequenceEqual(data));
    }

    [Fact]
    public async Task AbortLooksLikeAResetToThePeer()
    {
        var (a, b) = InMemoryTransport.CreatePair();
        await using var ownedA = a;
        await using var ownedB = b;
        ValueTask<ReadResult> localRead = a.Input.ReadAsync();
        a.Abort();
        await Assert.ThrowsAsync<IOException>(async () => await localRead);
        await Assert.ThrowsAsync<IOException>(async () => await b.Input.ReadAsync());

        // The peer's writes fail too (the first flush may still land in its own pipe).
        bool failed = false;
        for (int i = 0; i < 100 && !failed; i++)
        {
            try
            {
                failed = (await b.Output.WriteAsync(new byte[1024])).IsCompleted;
            }
            catch (IOException)
            {
                failed = true;
            }

            if (!failed) await Task.Yield();
        }

        Assert.True(failed);
    }

    [Fact]
    public async Task DisposeDeliversWrittenDataThenEndsCleanly()
    {
        var (a, b) = InMemoryTransport.CreatePair();
        await using var ownedB = b;
        PeerMessageWriter.WriteHaveAll(a.Output);
        await a.Output.FlushAsync();
        await a.DisposeAsync();
        await a.DisposeAsync(); // idempotent

        ReadResult result;
        do
        {
            result = await b.Input.ReadAsync();
            if (!result.IsCompleted) b.Input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
        while (!result.IsCompleted);

        Assert.Equal(new byte[] { 0, 0, 0, 1, 0x0E }, result.Buffer.ToArray());
    }
}
