namespace Shoal.Swarm;

/// <summary>
/// One connection's received payloads (bitfield, extension messages) that the actor has not handled yet, bounded in
/// bytes: past <see cref="PeerConnection.MaxUnhandledBytes"/> the receive loop waits until the actor catches up, so a
/// fast sender pushes back on itself through TCP. Counted in the session's <see cref="PeerMemoryBudget"/> meanwhile.
/// Thread-safe: the receive loop adds, the actor releases.
/// </summary>
internal sealed class UnhandledPayloads(PeerMemoryBudget memory, long maxBytes)
{
    private long _bytes;
    private TaskCompletionSource? _drained;

    /// <summary>A payload of <paramref name="bytes"/> goes to the actor: counted until <see cref="Release"/>.</summary>
    public void Add(int bytes)
    {
        Interlocked.Add(ref _bytes, bytes);
        memory.Add(bytes);
    }

    /// <summary>The actor has handled (or dropped) a payload of <paramref name="bytes"/>.</summary>
    public void Release(int bytes)
    {
        memory.Remove(bytes);
        if (Interlocked.Add(ref _bytes, -bytes) <= maxBytes)
            Interlocked.Exchange(ref _drained, null)?.TrySetResult();
    }

    /// <summary>Completes once no more than the bound waits for the actor.</summary>
    public async ValueTask WaitForRoomAsync(CancellationToken token)
    {
        while (Interlocked.Read(ref _bytes) > maxBytes)
        {
            var drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref _drained, drained);
            // The actor may have caught up between the check and the publication: look again before waiting.
            if (Interlocked.Read(ref _bytes) <= maxBytes) return;
            await drained.Task.WaitAsync(token).ConfigureAwait(false);
        }
    }
}
