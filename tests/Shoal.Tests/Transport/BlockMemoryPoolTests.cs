using System.Buffers;
using Shoal.Transport;

namespace Shoal.Tests.Transport;

public sealed class BlockMemoryPoolTests
{
    [Fact]
    public void ReturnedBlocksAreReused()
    {
        using var pool = new BlockMemoryPool(4096, 4);
        IMemoryOwner<byte> first = pool.Rent(100);
        Assert.Equal(4096, first.Memory.Length);
        first.Memory.Span[0] = 42;
        first.Dispose();
        Assert.Equal(1, pool.IdleBlocks);
        IMemoryOwner<byte> again = pool.Rent();
        Assert.Same(first, again);
        Assert.Equal(0, pool.IdleBlocks);
        again.Dispose();
    }

    [Fact]
    public void DoubleDisposeDoesNotPoolABlockTwice()
    {
        using var pool = new BlockMemoryPool(4096, 4);
        IMemoryOwner<byte> block = pool.Rent();
        block.Dispose();
        block.Dispose();
        Assert.Equal(1, pool.IdleBlocks);
        Assert.NotSame(pool.Rent(), pool.Rent());
    }

    [Fact]
    public void IdleBlocksAreBounded()
    {
        using var pool = new BlockMemoryPool(4096, 3);
        var rented = Enumerable.Range(0, 10).Select(_ => pool.Rent()).ToList();
        rented.ForEach(b => b.Dispose());
        Assert.Equal(3, pool.IdleBlocks);
    }

    [Fact]
    public void RentingMoreThanABlockIsRefused()
    {
        using var pool = new BlockMemoryPool(4096);
        Assert.Equal(4096, pool.MaxBufferSize);
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Rent(4097));
    }
}
