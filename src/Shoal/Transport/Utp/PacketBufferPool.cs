using System.Collections.Concurrent;

namespace Shoal.Transport.Utp;

/// <summary>
/// Fixed-size buffers for packets in flight and packets held out of order, shared by every connection of a
/// multiplexer. <c>ArrayPool.Shared</c> does not fit: a fast connection keeps hundreds of packets in flight, rented
/// on the thread that sends and returned on the one that receives the ack, which overflows its per-thread and
/// per-core caches, so nearly every packet allocated. Idle buffers kept for reuse are bounded; past the bound a
/// returned buffer is left to the GC. Thread-safe.
/// </summary>
internal sealed class PacketBufferPool
{
    /// <summary>Default bound on idle buffers (8 MiB of 2 KiB buffers): the packets of a few busy connections.</summary>
    public const int DefaultMaxRetained = 4096;

    private readonly ConcurrentQueue<byte[]> _idle = new();
    private readonly int _maxRetained;
    private int _idleCount;

    /// <summary>Creates an empty pool of <paramref name="bufferSize"/>-byte buffers.</summary>
    public PacketBufferPool(int bufferSize, int maxRetained = DefaultMaxRetained)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bufferSize, UtpPacket.HeaderLength);
        ArgumentOutOfRangeException.ThrowIfNegative(maxRetained);
        BufferSize = bufferSize;
        _maxRetained = maxRetained;
    }

    /// <summary>Every buffer has this size: the largest packet a connection sends or holds.</summary>
    public int BufferSize { get; }

    /// <summary>Idle buffers held for reuse.</summary>
    public int IdleBuffers => Volatile.Read(ref _idleCount);

    /// <summary>A buffer of at least <paramref name="length"/> bytes (larger requests, never made by uTP, get an exact array).</summary>
    public byte[] Rent(int length)
    {
        if (length > BufferSize) return new byte[length];
        if (_idle.TryDequeue(out byte[]? buffer))
        {
            Interlocked.Decrement(ref _idleCount);
            return buffer;
        }
        return GC.AllocateUninitializedArray<byte>(BufferSize);
    }

    /// <summary>Gives <paramref name="buffer"/> back (null is ignored); the caller must not use it again.</summary>
    public void Return(byte[]? buffer)
    {
        if (buffer is null || buffer.Length != BufferSize) return;
        if (Interlocked.Increment(ref _idleCount) <= _maxRetained) _idle.Enqueue(buffer);
        else Interlocked.Decrement(ref _idleCount); // at the bound: let the GC have it
    }
}
