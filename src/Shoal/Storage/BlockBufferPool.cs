using System.Buffers;
using Shoal.Picking;

namespace Shoal.Storage;

/// <summary>
/// Buffers for received blocks, shared by a session's connections. A block is rented on a socket thread and
/// returned on a disk thread, in bursts of hundreds: more than the shared ArrayPool keeps per core, so it
/// would allocate anew under load. This pool keeps up to <see cref="MaxRetained"/> 16 KiB buffers (32 MiB),
/// which covers the blocks a session has between socket and disk, so steady traffic allocates nothing;
/// <see cref="TrimUnused"/> lets go of the buffers no rent needed lately, so a burst's memory comes back.
/// Odd sizes (a short last block, a peer's larger block) come from the shared ArrayPool.
/// </summary>
internal sealed class BlockBufferPool
{
    /// <summary>Most idle buffers kept; beyond it a returned buffer is left to the GC.</summary>
    public const int MaxRetained = 2048;

    // A plain array stack: ConcurrentStack would allocate a node per push. The lock covers two array
    // operations, so contention costs less than the allocation it saves.
    private readonly byte[]?[] _idle = new byte[MaxRetained][];
    private readonly Lock _gate = new();
    private int _count;
    private int _lowestCount; // fewest idle buffers seen since the last trim: that many were never needed
    private long _rentedBytes;

    /// <summary>Bytes rented and not returned yet: received blocks between the socket and the disk.</summary>
    public long RentedBytes => Volatile.Read(ref _rentedBytes);

    /// <summary>A buffer of at least <paramref name="length"/> bytes.</summary>
    public byte[] Rent(int length)
    {
        if (length != PiecePicker.BlockLength)
        {
            byte[] odd = ArrayPool<byte>.Shared.Rent(length);
            Interlocked.Add(ref _rentedBytes, odd.Length);
            return odd;
        }
        Interlocked.Add(ref _rentedBytes, PiecePicker.BlockLength);
        lock (_gate)
        {
            if (_count > 0)
            {
                byte[] buffer = _idle[--_count]!;
                _idle[_count] = null;
                if (_count < _lowestCount) _lowestCount = _count;
                return buffer;
            }
            _lowestCount = 0;
        }
        return GC.AllocateUninitializedArray<byte>(PiecePicker.BlockLength);
    }

    /// <summary>
    /// Lets the GC have the idle buffers no rent needed since the previous call (the fewest idle seen in between);
    /// returns how many. An idle pool empties over two calls; a busy one keeps what it cycles through.
    /// </summary>
    public int TrimUnused()
    {
        lock (_gate)
        {
            int unused = Math.Min(_lowestCount, _count);
            for (int i = 0; i < unused; i++) _idle[--_count] = null;
            _lowestCount = _count;
            return unused;
        }
    }

    /// <summary>Gives a buffer from <see cref="Rent"/> back.</summary>
    public void Return(byte[] buffer)
    {
        Interlocked.Add(ref _rentedBytes, -buffer.Length);
        if (buffer.Length != PiecePicker.BlockLength)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            return;
        }
        lock (_gate)
        {
            if (_count < MaxRetained) _idle[_count++] = buffer;
        }
    }
}
