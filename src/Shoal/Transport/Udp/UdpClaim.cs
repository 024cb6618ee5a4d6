using System.Buffers;
using System.Net;
using System.Threading.Channels;

namespace Shoal.Transport.Udp;

/// <summary>
/// One protocol's share of a <see cref="UdpSocket"/>, made by <see cref="UdpSocket.Claim"/>: the datagrams its
/// classifier accepts reach its <see cref="IUdpDatagramHandler"/>, and it sends through the shared socket.
/// Disposing it stops the routing (and, for a queued claim, drains its queue and waits for its delivery loop); the
/// socket itself stays open for the other protocols.
/// </summary>
public sealed class UdpClaim : IAsyncDisposable
{
    /// <summary>Most bytes waiting in one claim's queue; a datagram beyond that is dropped (with the datagram count bound).</summary>
    public const int MaxQueuedBytes = 4 * 1024 * 1024;

    private readonly UdpSocket _socket;
    private readonly DatagramClassifier _classifier;
    private readonly IUdpDatagramHandler _handler;
    private readonly Channel<Queued>? _queue;
    private readonly Task _delivery = Task.CompletedTask;
    private long _received, _dropped, _queuedBytes;
    private bool _deliveredSinceIdle; // the receive loop's alone (claims without a queue)
    private int _disposed;

    internal UdpClaim(UdpSocket socket, string name, DatagramClassifier classifier, IUdpDatagramHandler handler, int queueCapacity)
    {
        _socket = socket;
        Name = name;
        _classifier = classifier;
        _handler = handler;
        if (queueCapacity > 0)
        {
            _queue = Channel.CreateBounded<Queued>(new BoundedChannelOptions(queueCapacity)
            {
                SingleReader = true,
                SingleWriter = true,
                FullMode = BoundedChannelFullMode.Wait, // TryWrite then fails: we drop the newest and count it
            });
            _delivery = Task.Run(DeliverQueuedAsync);
        }
    }

    /// <summary>The protocol's name.</summary>
    public string Name { get; }

    /// <summary>The shared socket's endpoint.</summary>
    public IPEndPoint LocalEndPoint => _socket.LocalEndPoint;

    /// <summary>Datagrams routed to this claim.</summary>
    public long Received => Interlocked.Read(ref _received);

    /// <summary>Datagrams dropped because the claim's queue was full.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Sends one datagram through the shared socket (see <see cref="UdpSocket.Send"/>).</summary>
    public bool Send(ReadOnlySpan<byte> datagram, IPEndPoint destination)
        => Volatile.Read(ref _disposed) == 0 && _socket.Send(datagram, destination);

    /// <summary>Sends datagrams to one destination in as few system calls as possible (see <see cref="UdpSocket.SendBatch"/>).</summary>
    internal int SendBatch(ReadOnlySpan<OutgoingDatagram> datagrams, IPEndPoint destination)
        => Volatile.Read(ref _disposed) == 0 ? _socket.SendBatch(datagrams, destination) : 0;

    /// <summary>Stops the routing; a queued claim's waiting datagrams are discarded and its delivery loop awaited.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _socket.Release(this);
        if (_queue is null) return;
        _queue.Writer.TryComplete();
        await _delivery.ConfigureAwait(false);
        while (_queue.Reader.TryRead(out Queued left)) ArrayPool<byte>.Shared.Return(left.Buffer);
    }

    /// <summary>Whether the datagram is this protocol's (a classifier that throws counts as "no").</summary>
    internal bool Accepts(ReadOnlySpan<byte> datagram)
    {
        if (Volatile.Read(ref _disposed) != 0) return false;
        try
        {
            return _classifier(datagram);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            _socket.ReportHandlerError(this, ex);
            return false;
        }
    }

    /// <summary>On the receive loop: hands the datagram over in place, or queues a pooled copy.</summary>
    internal void Deliver(ReadOnlySpan<byte> datagram, IPEndPoint source)
    {
        Interlocked.Increment(ref _received);
        if (_queue is null)
        {
            _deliveredSinceIdle = true;
            Invoke(datagram, source);
            return;
        }
        if (Interlocked.Read(ref _queuedBytes) + datagram.Length > MaxQueuedBytes)
        {
            Interlocked.Increment(ref _dropped);
            return;
        }
        byte[] copy = ArrayPool<byte>.Shared.Rent(datagram.Length);
        datagram.CopyTo(copy);
        Interlocked.Add(ref _queuedBytes, datagram.Length);
        if (_queue.Writer.TryWrite(new Queued(copy, datagram.Length, source))) return;
        Interlocked.Add(ref _queuedBytes, -datagram.Length);
        ArrayPool<byte>.Shared.Return(copy);
        Interlocked.Increment(ref _dropped);
    }

    /// <summary>On the receive loop, when the kernel queue is empty.</summary>
    internal void ReceiveIdle()
    {
        if (_queue is not null || !_deliveredSinceIdle || Volatile.Read(ref _disposed) != 0) return;
        _deliveredSinceIdle = false;
        try
        {
            _handler.OnReceiveIdle();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            _socket.ReportHandlerError(this, ex);
        }
    }

    private async Task DeliverQueuedAsync()
    {
        ChannelReader<Queued> reader = _queue!.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out Queued item))
            {
                Interlocked.Add(ref _queuedBytes, -item.Length);
                try
                {
                    if (Volatile.Read(ref _disposed) == 0) Invoke(item.Buffer.AsSpan(0, item.Length), item.Source);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(item.Buffer);
                }
            }
            if (Volatile.Read(ref _disposed) != 0) continue;
            try
            {
                _handler.OnReceiveIdle();
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                _socket.ReportHandlerError(this, ex);
            }
        }
    }

    private void Invoke(ReadOnlySpan<byte> datagram, IPEndPoint source)
    {
        try
        {
            _handler.OnDatagram(datagram, source);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // One protocol's bug must not take the port from the others.
            _socket.ReportHandlerError(this, ex);
        }
    }

    private readonly record struct Queued(byte[] Buffer, int Length, IPEndPoint Source);
}
