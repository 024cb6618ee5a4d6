using System.Threading.Channels;
using Shoal.Wire;

namespace Shoal.Swarm;

/// <summary>
/// The messages waiting for one peer's send loop, bounded in bytes (<see cref="OutboundMessage.MemoryCost"/>: an entry
/// per message plus the payload it carries) rather than in messages, and counted in the session's
/// <see cref="PeerMemoryBudget"/> while they wait.
/// </summary>
/// <remarks>
/// The actor is the only writer and the send loop the only reader. An unbounded channel underneath, because the bound is
/// ours: it also gives its segments back as it drains, where a bounded one keeps an array as large as its fullest moment
/// for the connection's life.
/// </remarks>
internal sealed class PeerSendQueue(long maxBytes, PeerMemoryBudget memory)
{
    private readonly Channel<OutboundMessage> _channel = Channel.CreateUnbounded<OutboundMessage>(new UnboundedChannelOptions
    {
        SingleReader = true,
        SingleWriter = true,
    });
    private long _bytes;
    private int _pieces;

    /// <summary>Most bytes the queue holds.</summary>
    public long MaxBytes { get; } = maxBytes;

    /// <summary>Bytes waiting.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>Piece messages (uploads) waiting.</summary>
    public int Pieces => Volatile.Read(ref _pieces);

    /// <summary>The send loop's end.</summary>
    public ChannelReader<OutboundMessage> Reader => _channel.Reader;

    /// <summary>
    /// Queues <paramref name="message"/>; false, with nothing queued, when it would take the queue past
    /// <see cref="MaxBytes"/> (<paramref name="waiting"/> then says how much already waits). A closed queue takes the
    /// message and drops it at once (true: there is nothing left to decide).
    /// </summary>
    public bool TryEnqueue(in OutboundMessage message, out long waiting)
    {
        int cost = message.MemoryCost;
        long queued = Interlocked.Add(ref _bytes, cost);
        waiting = queued - cost;
        if (queued > MaxBytes)
        {
            Interlocked.Add(ref _bytes, -cost);
            return false;
        }
        memory.Add(cost);
        if (message.Id == MessageId.Piece) Interlocked.Increment(ref _pieces);
        if (!_channel.Writer.TryWrite(message)) Dequeued(message); // closed: nothing more goes out
        return true;
    }

    /// <summary>A message the reader took has been written (or failed to be): its memory is free.</summary>
    public void Dequeued(in OutboundMessage message)
    {
        int cost = message.MemoryCost;
        Interlocked.Add(ref _bytes, -cost);
        memory.Remove(cost);
        if (message.Id == MessageId.Piece) Interlocked.Decrement(ref _pieces);
    }

    /// <summary>Takes no more messages; the reader sees the end once it has drained what waits.</summary>
    public void Complete() => _channel.Writer.TryComplete();

    /// <summary>After <see cref="Complete"/> and the reader's end: frees whatever was never sent.</summary>
    public void DropUnsent()
    {
        while (_channel.Reader.TryRead(out OutboundMessage unsent)) Dequeued(unsent);
    }
}
