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
    public void TrimLetsGoOfBlocksNoRentNeededSinceTheLastTrimAndKeepsTheOnesInUse()
    {
        using var pool = new BlockMemoryPool(4096, 16);
        var burst = Enumerable.Range(0, 10).Select(_ => pool.Rent()).ToList();
        Assert.Equal(10, pool.RentedBlocks);
        Assert.Equal(10 * 4096, pool.RentedBytes);
        burst.ForEach(b => b.Dispose());
        Assert.Equal(10, pool.IdleBlocks);
        Assert.Equal(0, pool.RentedBlocks);

        // The burst's period ends: it needed every block (none was idle at its lowest), so nothing goes yet.
        Assert.Equal(0, pool.TrimUnused());
        // Steady use of two blocks at a time: eight were never needed in this period and go.
        for (int i = 0; i < 5; i++)
        {
            IMemoryOwner<byte> a = pool.Rent(), b = pool.Rent();
            a.Dispose();
            b.Dispose();
        }
        Assert.Equal(8, pool.TrimUnused());
        Assert.Equal(2, pool.IdleBlocks);
        // Nothing at all rented for a period: the rest goes too.
        Assert.Equal(2, pool.TrimUnused());
        Assert.Equal(0, pool.IdleBlocks);
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
