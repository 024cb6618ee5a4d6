using System.Buffers;
using Shoal.Picking;

namespace Shoal.Storage;

/// <summary>
/// Buffers for received blocks, shared by a session's connections. A block is rented on a socket thread and
/// returned on a disk thread, in bursts of hundreds: more than the shared ArrayPool keeps per core, so it
/// would allocate anew under load. This pool keeps up to <see cref="MaxRetained"/> 16 KiB buffers (32 MiB),
/// which covers the blocks a session has between socket and disk, so steady traffic allocates nothing.
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

    /// <summary>A buffer of at least <paramref name="length"/> bytes.</summary>
    public byte[] Rent(int length)
    {
        if (length != PiecePicker.BlockLength) return ArrayPool<byte>.Shared.Rent(length);
        lock (_gate)
        {
            if (_count > 0)
            {
                byte[] buffer = _idle[--_count]!;
                _idle[_count] = null;
                return buffer;
            }
        }
        return GC.AllocateUninitializedArray<byte>(PiecePicker.BlockLength);
    }

    /// <summary>Gives a buffer from <see cref="Rent"/> back.</summary>
    public void Return(byte[] buffer)
    {
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
