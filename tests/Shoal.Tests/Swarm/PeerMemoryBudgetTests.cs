using Shoal.Discovery;
using Shoal.Storage;
using Shoal.Swarm;
using Shoal.Tests.Discovery;
using Shoal.Transport;

namespace Shoal.Tests.Swarm;

public sealed class PeerMemoryBudgetTests
{
    private const int KiB = 1024;

    [Fact]
    public void CountsQueuedBytesReceivedBlocksAndSocketBuffers()
    {
        using var sockets = new BlockMemoryPool(4 * KiB, 16);
        var blocks = new BlockBufferPool();
        var budget = new PeerMemoryBudget(100 * KiB, sockets, blocks, TimeProvider.System);

        budget.Add(10 * KiB);
        byte[] block = blocks.Rent(16 * KiB);
        using (sockets.Rent())
        {
            Assert.Equal(26 * KiB, budget.EngineBytes);
            Assert.Equal(30 * KiB, budget.TotalBytes);
            Assert.False(budget.IsUnderPressure);
        }
        budget.Add(30 * KiB);
        Assert.True(budget.IsUnderPressure); // 56 KiB of 100
        Assert.False(budget.IsFull);
        budget.Add(44 * KiB);
        Assert.True(budget.IsFull);

        blocks.Return(block);
        budget.Remove(84 * KiB);
        Assert.Equal(0, budget.TotalBytes);
        Assert.False(budget.IsFull);
    }

    [Fact]
    public async Task AReceiveLoopWaitsAtTheCeilingUntilTheEngineGivesMemoryBack()
    {
        using var sockets = new BlockMemoryPool(4 * KiB, 16);
        var budget = new PeerMemoryBudget(64 * KiB, sockets, new BlockBufferPool(), TimeProvider.System);
        Assert.True(budget.WaitForRoomAsync(CancellationToken.None).IsCompletedSuccessfully);

        budget.Add(64 * KiB);
        Task waiting = budget.WaitForRoomAsync(CancellationToken.None).AsTask();
        await Task.Delay(100);
        Assert.False(waiting.IsCompleted);
        budget.Remove(1);
        await waiting.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void SocketBuffersNeverPauseReceiving()
    {
        // They drain only when the receive loops read: pausing on them could never end.
        using var sockets = new BlockMemoryPool(4 * KiB, 16);
        var budget = new PeerMemoryBudget(8 * KiB, sockets, new BlockBufferPool(), TimeProvider.System);
        using var a = sockets.Rent();
        using var b = sockets.Rent();
        Assert.True(budget.IsFull);
        Assert.True(budget.WaitForRoomAsync(CancellationToken.None).IsCompletedSuccessfully);
    }

    [Fact]
    public void IdleBuffersAreTrimmedOncePerIntervalWhoeverAsks()
    {
        var time = new ManualTimeProvider();
        using var sockets = new BlockMemoryPool(4 * KiB, 16);
        var blocks = new BlockBufferPool();
        var budget = new PeerMemoryBudget(1024 * KiB, sockets, blocks, time);
        sockets.Rent().Dispose();
        blocks.Return(blocks.Rent(16 * KiB));

        budget.TrimIdleBuffers(time.GetTimestamp()); // starts the clock
        time.Advance(PeerMemoryBudget.TrimInterval);
        budget.TrimIdleBuffers(time.GetTimestamp()); // the rent above counts: the period's lowest idle count was 0
        Assert.Equal(1, sockets.IdleBlocks);
        time.Advance(PeerMemoryBudget.TrimInterval / 2);
        budget.TrimIdleBuffers(time.GetTimestamp()); // too soon: nothing
        Assert.Equal(1, sockets.IdleBlocks);
        time.Advance(PeerMemoryBudget.TrimInterval / 2);
        budget.TrimIdleBuffers(time.GetTimestamp());
        Assert.Equal(0, sockets.IdleBlocks);
        Assert.Equal(0, blocks.TrimUnused()); // already empty
    }

    [Fact]
    public void QueuedMessagesCostTheirEntryAndTheirPayload()
    {
        Assert.Equal(OutboundMessage.EntryBytes, new OutboundMessage(Shoal.Wire.MessageId.Piece, 1, 0, 16 * KiB).MemoryCost);
        Assert.Equal(OutboundMessage.EntryBytes + 100, new OutboundMessage(Shoal.Wire.MessageId.Extended, 1, Data: new byte[100]).MemoryCost);
    }

    [Fact]
    public void MetadataAnswersAreEncodedOnceAndShared()
    {
        byte[] info = new byte[40 * KiB];
        new Random(5).NextBytes(info);
        var server = new MetadataServer(info);
        byte[] first = server.Respond(1);
        Assert.Same(first, server.Respond(1));
        Assert.NotSame(first, server.Respond(2));
        MetadataMessage parsed = MetadataMessage.Parse(first);
        Assert.Equal(MetadataMessageType.Data, parsed.Type);
        Assert.Equal(info.AsSpan(16 * KiB, 16 * KiB).ToArray(), parsed.Data.ToArray());
    }
}
