using Shoal.Storage;
using Shoal.Transport;

namespace Shoal.Swarm;

/// <summary>
/// The session's ceiling on memory held for peers (<see cref="SessionOptions.MaxPeerMemory"/>), counted in bytes:
/// messages queued for peers (descriptors and the payloads they carry), payloads received and not handled yet,
/// received blocks on their way to the disk, and the connections' socket buffers.
/// </summary>
/// <remarks>
/// Every part is also bounded per peer (<see cref="PeerConnection"/>); the ceiling is what stops many peers together.
/// What happens at it is decided by the users of <see cref="IsFull"/> and <see cref="WaitForRoomAsync"/>: no new
/// connection is admitted, optional answers (metadata) become rejects, and receive loops stop taking more until the
/// disk and the send queues have drained. Socket buffers count toward <see cref="IsFull"/> but not toward the
/// receive pause: they drain only when the receive loops read, so pausing on them could never end.
/// Thread-safe: the counters are updated with interlocked operations from every connection's loops.
/// </remarks>
internal sealed class PeerMemoryBudget(long limit, BlockMemoryPool socketMemory, BlockBufferPool blocks, TimeProvider time)
{
    /// <summary>How often a paused receive loop looks again (only while the ceiling is reached).</summary>
    private static readonly TimeSpan RoomPollInterval = TimeSpan.FromMilliseconds(20);

    /// <summary>How often idle pooled buffers that nothing needed are let go (see <see cref="TrimIdleBuffers"/>).</summary>
    public static readonly TimeSpan TrimInterval = TimeSpan.FromSeconds(10);

    private long _queued;
    private long _lastTrim;

    /// <summary>The ceiling in bytes.</summary>
    public long Limit { get; } = limit > 0 ? limit : throw new ArgumentOutOfRangeException(nameof(limit), limit, "the memory ceiling for peers must be positive");

    /// <summary>The pool of every connection's socket buffers.</summary>
    public BlockMemoryPool SocketMemory { get; } = socketMemory;

    /// <summary>The pool of received blocks on their way to the disk.</summary>
    public BlockBufferPool Blocks { get; } = blocks;

    /// <summary>Bytes the engine itself holds for peers: queued messages, unhandled payloads, blocks before the disk.</summary>
    public long EngineBytes => Volatile.Read(ref _queued) + Blocks.RentedBytes;

    /// <summary><see cref="EngineBytes"/> plus the socket buffers of every connection.</summary>
    public long TotalBytes => EngineBytes + SocketMemory.RentedBytes;

    /// <summary>At the ceiling: admit no new peer, start nothing optional.</summary>
    public bool IsFull => TotalBytes >= Limit;

    /// <summary>Past half the ceiling: optional answers (metadata pieces) are refused so the rest keeps room.</summary>
    public bool IsUnderPressure => TotalBytes >= Limit / 2;

    /// <summary>Counts <paramref name="bytes"/> more held (a queued message, a received payload).</summary>
    public void Add(long bytes) => Interlocked.Add(ref _queued, bytes);

    /// <summary>Counts <paramref name="bytes"/> given back.</summary>
    public void Remove(long bytes) => Interlocked.Add(ref _queued, -bytes);

    /// <summary>
    /// Completes at once below the ceiling; otherwise waits until the engine's own buffers (not the sockets') are
    /// back under it. A receive loop calls it before taking in another payload, so a full session stops reading
    /// and TCP pushes back on the senders.
    /// </summary>
    public ValueTask WaitForRoomAsync(CancellationToken cancellationToken) =>
        EngineBytes < Limit ? ValueTask.CompletedTask : new ValueTask(PollForRoomAsync(cancellationToken));

    /// <summary>
    /// Every <see cref="TrimInterval"/>, gives the GC the pooled buffers that no rent needed over the last interval, so
    /// the memory of a burst or an attack comes back within two intervals of its end. Torrents call it from their tick
    /// (whoever comes first after the interval does the work), so an idle session pays nothing.
    /// </summary>
    public void TrimIdleBuffers(long now)
    {
        long last = Interlocked.Read(ref _lastTrim);
        if (last != 0 && time.GetElapsedTime(last, now) < TrimInterval) return;
        if (Interlocked.CompareExchange(ref _lastTrim, now, last) != last || last == 0) return;
        SocketMemory.TrimUnused();
        Blocks.TrimUnused();
    }

    private async Task PollForRoomAsync(CancellationToken cancellationToken)
    {
        while (EngineBytes >= Limit) await Task.Delay(RoomPollInterval, time, cancellationToken).ConfigureAwait(false);
    }
}
