using System.Threading.Channels;

namespace Shoal.Swarm;

/// <summary>
/// The session's bounded event stream: torrents publish from their actors without ever waiting; at the bound the
/// oldest event is dropped (and counted), so a reader that stops reading costs a fixed amount of memory and slows
/// nothing down. One reader at a time: an embedder with several consumers fans out itself (the daemon's event hub).
/// </summary>
internal sealed class SessionEvents
{
    /// <summary>Events kept for a slow reader.</summary>
    public const int Capacity = 4096;

    private readonly Channel<SessionEvent> _channel;
    private long _dropped;

    public SessionEvents()
    {
        _channel = Channel.CreateBounded<SessionEvent>(new BoundedChannelOptions(Capacity)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = false,
            SingleWriter = false,
        }, _ => Interlocked.Increment(ref _dropped));
    }

    /// <summary>Events dropped because nobody read them in time.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    public void Publish(SessionEvent item) => _channel.Writer.TryWrite(item);

    public IAsyncEnumerable<SessionEvent> ReadAllAsync(CancellationToken cancellationToken) => _channel.Reader.ReadAllAsync(cancellationToken);

    /// <summary>Ends the stream (the session is disposed): readers finish after the events already queued.</summary>
    public void Complete() => _channel.Writer.TryComplete();
}
