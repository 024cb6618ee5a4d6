using System.Buffers;
using System.IO.Pipelines;
using System.Net;

namespace Shoal.Transport.Utp;

/// <summary>
/// A uTP connection as a <see cref="PeerTransport"/>, so swarm code uses uTP peers exactly as TCP ones. Received
/// bytes go from the multiplexer's receive loop straight into the input pipe; bytes the application writes wait
/// in the output pipe until the connection's windows let them out, and a small pump hands them over: the
/// connection copies them from the pipe into packets (on whichever thread opens the window), and the pump releases
/// the pipe's memory as they go. Backpressure is the pipes' and the windows': a slow reader shrinks the window the
/// peer sees, a slow network holds the application's flush.
/// </summary>
public sealed class UtpTransport : PeerTransport, IUtpStream
{
    /// <summary>Bytes the connection takes from the output pipe before the pump releases them (and the writer's flush may resume).</summary>
    private const int PumpReleaseBytes = 64 * 1024;

    private readonly UtpMultiplexer _owner;
    private readonly Pipe _receivePipe;
    private readonly Pipe _sendPipe;
    private readonly UtpInputReader _input;
    private readonly AsyncSignal _pumpSignal = new();
    private readonly TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly int _notifyConsumedBytes;
    private Task _pump = Task.CompletedTask;
    private UtpConnection _connection = null!;

    // Guarded by the connection's gate.
    private ReadOnlySequence<byte> _pending;
    private bool _hasPending;
    private long _pendingTaken;
    private long _delivered;
    private bool _receiveCompleted;
    private bool _flushNeeded;

    private long _consumed;
    private long _consumedSinceNotify;
    private int _disposed;

    private UtpTransport(UtpMultiplexer owner, IPEndPoint remote, MemoryPool<byte> pool, int sendBufferSize, int receiveBufferSize)
    {
        _owner = owner;
        RemoteEndPoint = remote;
        _notifyConsumedBytes = Math.Max(1, receiveBufferSize / 4);
        int segment = Math.Min(pool.MaxBufferSize, 32 * 1024);
        // The receive pipe never pauses its writer: the advertised window bounds what can arrive. The application's
        // continuations run on the thread pool, never on the receive loop.
        _receivePipe = new Pipe(new PipeOptions(pool, PipeScheduler.ThreadPool, PipeScheduler.ThreadPool,
            pauseWriterThreshold: 0, resumeWriterThreshold: 0, segment, useSynchronizationContext: false));
        // The pump runs inline in the application's flush (its packets leave on that thread, as TCP's send loop);
        // a writer waiting for room resumes on the thread pool.
        _sendPipe = new Pipe(new PipeOptions(pool, PipeScheduler.Inline, PipeScheduler.ThreadPool,
            sendBufferSize, sendBufferSize / 2, segment, useSynchronizationContext: false));
        _input = new UtpInputReader(_receivePipe.Reader, this);
    }

    /// <inheritdoc />
    public override PipeReader Input => _input;

    /// <inheritdoc />
    public override PipeWriter Output => _sendPipe.Writer;

    /// <inheritdoc />
    public override IPEndPoint RemoteEndPoint { get; }

    /// <inheritdoc />
    public override TransportProtocol Protocol => TransportProtocol.Utp;

    /// <summary>Counters of this connection so far.</summary>
    public UtpConnectionStatistics Statistics
    {
        get
        {
            lock (_connection.Gate) return _connection.Statistics;
        }
    }

    /// <summary>The congestion window in bytes (LEDBAT's current allowance).</summary>
    public int CongestionWindow
    {
        get
        {
            lock (_connection.Gate) return _connection.CongestionWindow;
        }
    }

    /// <summary>The packet size MTU discovery settled on so far.</summary>
    public int PacketSize
    {
        get
        {
            lock (_connection.Gate) return _connection.PacketSize;
        }
    }

    /// <summary>The smoothed round-trip time (zero before the first measurement).</summary>
    public TimeSpan RoundTripTime
    {
        get
        {
            lock (_connection.Gate) return TimeSpan.FromTicks(_connection.SmoothedRttMicros * (TimeSpan.TicksPerMillisecond / 1000));
        }
    }

    /// <summary>The queuing delay LEDBAT measured last on the path to the peer (what it keeps near its target).</summary>
    public TimeSpan QueuingDelay
    {
        get
        {
            lock (_connection.Gate) return TimeSpan.FromTicks(_connection.QueuingDelayMicros * (TimeSpan.TicksPerMillisecond / 1000));
        }
    }

    internal UtpConnection Connection => _connection;

    /// <summary>Completes when the handshake completes; faults when it fails.</summary>
    internal Task Connected => _connected.Task;

    /// <summary>Completes when the connection has ended.</summary>
    internal Task Closed => _closed.Task;

    internal static UtpTransport CreateOutgoing(UtpMultiplexer owner, UtpConnectionSettings settings, IPEndPoint remote,
        ushort receiveId, ushort initialSequence, MemoryPool<byte> pool, int sendBufferSize)
    {
        var transport = new UtpTransport(owner, remote, pool, sendBufferSize, settings.ReceiveBufferSize);
        transport._connection = UtpConnection.CreateOutgoing(owner, transport, settings, remote, receiveId, initialSequence);
        transport._pump = transport.PumpAsync();
        return transport;
    }

    internal static UtpTransport CreateIncoming(UtpMultiplexer owner, UtpConnectionSettings settings, IPEndPoint remote,
        in UtpPacket syn, ushort initialSequence, long nowMicros, MemoryPool<byte> pool, int sendBufferSize)
    {
        var transport = new UtpTransport(owner, remote, pool, sendBufferSize, settings.ReceiveBufferSize);
        transport._connection = UtpConnection.CreateIncoming(owner, transport, settings, remote, syn, initialSequence, nowMicros);
        transport._connected.TrySetResult();
        transport._pump = transport.PumpAsync();
        return transport;
    }

    /// <inheritdoc />
    public override void Abort()
    {
        lock (_connection.Gate) _connection.Abort(new IOException("the transport was aborted"), _owner.NowMicros);
    }

    /// <inheritdoc />
    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        try
        {
            // As TCP: complete the application's ends; the pump sends what was written, then our FIN.
            _input.Complete();
            await _sendPipe.Writer.CompleteAsync().ConfigureAwait(false);
            try
            {
                await _closed.Task.WaitAsync(DrainTimeout, _owner.Time).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // The peer does not take our data or ack our FIN: give up on it.
            }
            Abort();
            await _pump.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            _owner.Log($"closing uTP connection to {RemoteEndPoint} failed: {ex.Message}");
        }
    }

    /// <summary>Bytes received and handed to the input pipe; the multiplexer flushes them once per burst.</summary>
    internal void FlushReceived()
    {
        if (!_flushNeeded || _receiveCompleted) return;
        _flushNeeded = false;
        ValueTask<FlushResult> flush = _receivePipe.Writer.FlushAsync();
        // The writer never pauses (no threshold), so the flush completes at once; observe it all the same.
        if (flush.IsCompleted) _ = flush.Result;
        else _ = flush.AsTask();
    }

    internal void OnInputConsumed(long bytes)
    {
        Interlocked.Add(ref _consumed, bytes);
        if (Interlocked.Add(ref _consumedSinceNotify, bytes) < _notifyConsumedBytes) return;
        Interlocked.Exchange(ref _consumedSinceNotify, 0);
        lock (_connection.Gate) _connection.OnApplicationConsumed(_owner.NowMicros);
    }

    internal void OnInputCompleted()
    {
        lock (_connection.Gate) _connection.DetachReader(_owner.NowMicros);
    }

    void IUtpStream.OnConnected() => _connected.TrySetResult();

    void IUtpStream.OnDataReceived(ReadOnlySpan<byte> data)
    {
        if (_receiveCompleted) return;
        _receivePipe.Writer.Write(data);
        _delivered += data.Length;
        if (!_flushNeeded)
        {
            _flushNeeded = true;
            _owner.ScheduleFlush(this);
        }
    }

    void IUtpStream.OnEndOfStream()
    {
        if (_receiveCompleted) return;
        _flushNeeded = true;
        FlushReceived();
        _receiveCompleted = true;
        _receivePipe.Writer.Complete();
    }

    void IUtpStream.OnClosed(Exception? error)
    {
        Exception failure = error switch
        {
            null => new IOException($"uTP connection to {RemoteEndPoint} is closed"),
            IOException io => io,
            _ => new IOException(error.Message, error),
        };
        if (!_receiveCompleted)
        {
            _receiveCompleted = true;
            if (error is null)
            {
                FlushReceived();
                _receivePipe.Writer.Complete();
            }
            else
            {
                _receivePipe.Writer.Complete(failure);
            }
        }
        _connected.TrySetException(error ?? failure);
        _connected.Task.Exception?.Handle(_ => true); // observed here when nobody awaits it
        _closed.TrySetResult();
        // Wake the pump wherever it waits, so the application's next flush learns the connection is gone.
        _pumpSignal.Set();
        _sendPipe.Reader.CancelPendingRead();
    }

    long IUtpStream.UnreadBytes => _delivered - Volatile.Read(ref _consumed);

    int IUtpStream.AvailableToSend => _hasPending ? (int)Math.Min(int.MaxValue, _pending.Length) : 0;

    int IUtpStream.TakeSendData(Span<byte> destination)
    {
        if (!_hasPending) return 0;
        int n = (int)Math.Min(destination.Length, _pending.Length);
        ReadOnlySequence<byte> taken = _pending.Slice(0, n);
        taken.CopyTo(destination);
        _pending = _pending.Slice(taken.End);
        _pendingTaken += n;
        if (_pending.IsEmpty || _pendingTaken >= PumpReleaseBytes) _pumpSignal.Set();
        return n;
    }

    /// <summary>
    /// Hands the application's written bytes to the connection: offers the pipe's buffer, lets the connection take
    /// what the windows allow (now, or later from the receive loop as acks arrive), and releases what was taken.
    /// </summary>
    private async Task PumpAsync()
    {
        await Task.Yield(); // never run the first read inline in the creator's call
        PipeReader reader = _sendPipe.Reader;
        Exception? error = null;
        try
        {
            while (true)
            {
                ReadResult result = await reader.ReadAsync().ConfigureAwait(false);
                ReadOnlySequence<byte> buffer = result.Buffer;
                bool wait;
                lock (_connection.Gate)
                {
                    if (_connection.State == UtpConnectionState.Closed)
                    {
                        error = ClosedError();
                        break;
                    }
                    _pumpSignal.Clear();
                    _pending = buffer;
                    _hasPending = !buffer.IsEmpty;
                    _pendingTaken = 0;
                    if (_hasPending && _connection.State == UtpConnectionState.Connected) _connection.TrySend(_owner.NowMicros);
                    wait = _hasPending && !_pending.IsEmpty;
                }

                if (wait) await _pumpSignal.WaitAsync().ConfigureAwait(false);

                SequencePosition consumed;
                bool all;
                bool closed;
                lock (_connection.Gate)
                {
                    consumed = _pending.Start;
                    all = _pending.IsEmpty;
                    _pending = default;
                    _hasPending = false;
                    closed = _connection.State == UtpConnectionState.Closed;
                    if (!closed && all && result.IsCompleted) _connection.Close(_owner.NowMicros);
                }
                reader.AdvanceTo(buffer.IsEmpty ? buffer.End : consumed);
                if (closed)
                {
                    error = ClosedError();
                    break;
                }
                if (all && result.IsCompleted) break;
            }
        }
        catch (Exception ex)
        {
            error = new IOException("the uTP send pump failed", ex);
            Abort();
        }
        finally
        {
            await reader.CompleteAsync(error).ConfigureAwait(false);
        }
    }

    private IOException? ClosedError() => _connection.CloseError switch
    {
        null => null,
        IOException io => io,
        Exception other => new IOException(other.Message, other),
    };
}
