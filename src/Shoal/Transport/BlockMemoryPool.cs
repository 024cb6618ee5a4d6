using System.Buffers;
using System.Collections.Concurrent;

namespace Shoal.Transport;

/// <summary>
/// A <see cref="MemoryPool{T}"/> of fixed-size pinned blocks for socket pipes, in the spirit of Kestrel's
/// pinned block pool: renting reuses both the array and its owner object, so a busy connection allocates
/// nothing per block (<see cref="MemoryPool{T}.Shared"/> allocates an owner per rent and, when many
/// blocks are in flight, new arrays too). Pinned arrays spare the socket layer from pinning each buffer.
/// Idle blocks kept for reuse are bounded by <c>maxRetainedBlocks</c>; past that, returned blocks are left
/// to the GC, and <see cref="TrimUnused"/> lets go of the ones no rent needed lately, so the memory of a burst
/// (or of an attack) comes back once it is over. One pool is meant to be shared by all connections of a session.
/// Thread-safe.
/// </summary>
public sealed class BlockMemoryPool : MemoryPool<byte>
{
    /// <summary>Default block size: a 16 KiB block plus its header fits in two blocks, reads are large.</summary>
    public const int DefaultBlockSize = 32 * 1024;

    /// <summary>Default bound on idle blocks kept for reuse (32 MiB with the default block size).</summary>
    public const int DefaultMaxRetainedBlocks = 1024;

    private readonly ConcurrentQueue<Block> _idle = new();
    private readonly int _blockSize;
    private readonly int _maxRetained;
    private int _idleCount;
    private int _rentedCount;
    private int _lowestIdle; // fewest idle blocks seen since the last trim: that many were never needed
    private volatile bool _disposed;

    /// <summary>Creates an empty pool; blocks are allocated on demand.</summary>
    public BlockMemoryPool(int blockSize = DefaultBlockSize, int maxRetainedBlocks = DefaultMaxRetainedBlocks)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSize, 1024);
        ArgumentOutOfRangeException.ThrowIfNegative(maxRetainedBlocks);
        _blockSize = blockSize;
        _maxRetained = maxRetainedBlocks;
    }

    /// <summary>Every block has exactly this size; a pipe asking for more allocates outside the pool.</summary>
    public override int MaxBufferSize => _blockSize;

    /// <summary>Idle blocks currently held for reuse.</summary>
    public int IdleBlocks => Volatile.Read(ref _idleCount);

    /// <summary>Blocks rented and not returned yet: the bytes the connections' pipes hold.</summary>
    public int RentedBlocks => Volatile.Read(ref _rentedCount);

    /// <summary><see cref="RentedBlocks"/> in bytes.</summary>
    public long RentedBytes => (long)RentedBlocks * _blockSize;

    /// <inheritdoc />
    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, _blockSize);
        Interlocked.Increment(ref _rentedCount);
        if (_idle.TryDequeue(out Block? block))
        {
            int idle = Interlocked.Decrement(ref _idleCount);
            if (idle < Volatile.Read(ref _lowestIdle)) Volatile.Write(ref _lowestIdle, idle); // a racy minimum is good enough
            block.Rented = true;
            return block;
        }
        Volatile.Write(ref _lowestIdle, 0);

        return new Block(this, GC.AllocateUninitializedArray<byte>(_blockSize, pinned: true)) { Rented = true };
    }

    /// <summary>
    /// Lets the GC have the idle blocks that no rent needed since the previous call (the fewest idle blocks seen in
    /// between); returns how many. Called now and then (every few seconds): a busy pool keeps what it cycles through,
    /// an idle one empties over two calls.
    /// </summary>
    public int TrimUnused()
    {
        int unused = Math.Min(Interlocked.Exchange(ref _lowestIdle, int.MaxValue), IdleBlocks);
        int dropped = 0;
        while (dropped < unused && _idle.TryDequeue(out _))
        {
            Interlocked.Decrement(ref _idleCount);
            dropped++;
        }
        // The next period's minimum starts from what is idle now (a rent lowers it, a return does not raise it).
        Volatile.Write(ref _lowestIdle, IdleBlocks);
        return dropped;
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        _disposed = true;
        while (_idle.TryDequeue(out _)) Interlocked.Decrement(ref _idleCount);
    }

    private void Return(Block block)
    {
        Interlocked.Decrement(ref _rentedCount);
        if (_disposed) return;
        if (Interlocked.Increment(ref _idleCount) <= _maxRetained) _idle.Enqueue(block);
        else Interlocked.Decrement(ref _idleCount); // at the bound: let the GC have it
    }

    private sealed class Block : IMemoryOwner<byte>
    {
        private readonly BlockMemoryPool _pool;
        private readonly byte[] _array;

        public Block(BlockMemoryPool pool, byte[] array)
        {
            _pool = pool;
            _array = array;
        }

        public bool Rented { get; set; }

        public Memory<byte> Memory => _array;

        public void Dispose()
        {
            // A double dispose must not put the same block in the pool twice.
            if (!Rented) return;
            Rented = false;
            _pool.Return(this);
        }
    }
}
