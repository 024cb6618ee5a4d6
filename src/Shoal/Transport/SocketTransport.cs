using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;

namespace Shoal.Transport;

/// <summary>
/// A <see cref="PeerTransport"/> over a connected TCP socket: a receive loop reads from the socket straight
/// into the input pipe's memory and a send loop writes the output pipe's buffers to the socket (the shape
/// of Kestrel's SocketConnection). Both pipes pause their writer at <see cref="PauseThreshold"/> buffered
/// bytes, so a slow peer or a slow consumer creates backpressure, never unbounded memory.
/// </summary>
public sealed class SocketTransport : PeerTransport
{
    /// <summary>Buffered bytes at which a pipe's writer waits (per direction).</summary>
    public const int PauseThreshold = 1024 * 1024;

    /// <summary>Buffered bytes at which a paused writer resumes.</summary>
    public const int ResumeThreshold = PauseThreshold / 2;

    /// <summary>Preferred pipe segment (and receive buffer) size: one read takes a whole block and more.</summary>
    private const int PreferredSegmentSize = 32 * 1024;

    private readonly Socket _socket;
    private readonly Pipe _receivePipe;
    private readonly Pipe _sendPipe;
    private readonly Task _receiveTask;
    private readonly Task _sendTask;
    private readonly IPEndPoint _remote;
    private readonly int _segmentSize;
    private readonly TimeProvider _time;
    private volatile Exception? _closeReason;
    private volatile bool _aborted;
    private int _disposed;

    private SocketTransport(Socket socket, MemoryPool<byte>? pool, TimeProvider time)
    {
        _time = time;
        pool ??= MemoryPool<byte>.Shared;
        _segmentSize = Math.Min(pool.MaxBufferSize, PreferredSegmentSize);
        _socket = socket;
        _socket.NoDelay = true;
        _remote = socket.RemoteEndPoint as IPEndPoint
            ?? throw new ArgumentException("the socket is not connected over IP", nameof(socket));

        // Readers run inline (Kestrel's "prefer inline scheduling"): the app parses what the receive loop just
        // flushed on the same thread, and the send loop's socket write runs inside the app's flush, instead of each
        // flush waking another thread-pool thread (a hop for every 32 KiB either way). That is safe because neither
        // side blocks: the engine's loops only await (disk I/O goes to disk workers). Writers blocked by a full pipe
        // resume on the thread pool, so a slow consumer never runs the producer's loop on its own stack.
        _receivePipe = new Pipe(new PipeOptions(pool, PipeScheduler.Inline, PipeScheduler.ThreadPool,
            PauseThreshold, ResumeThreshold, _segmentSize, useSynchronizationContext: false));
        _sendPipe = new Pipe(new PipeOptions(pool, PipeScheduler.Inline, PipeScheduler.ThreadPool,
            PauseThreshold, ResumeThreshold, _segmentSize, useSynchronizationContext: false));
        _receiveTask = ReceiveLoopAsync();
        _sendTask = SendLoopAsync();
    }

    /// <inheritdoc />
    public override PipeReader Input => _receivePipe.Reader;

    /// <inheritdoc />
    public override PipeWriter Output => _sendPipe.Writer;

    /// <inheritdoc />
    public override IPEndPoint RemoteEndPoint => _remote;

    /// <summary>Connects to <paramref name="remote"/> over TCP, with buffers from <see cref="MemoryPool{T}.Shared"/>.</summary>
    /// <exception cref="TimeoutException">The connection did not complete within <paramref name="timeout"/>.</exception>
    /// <exception cref="SocketException">The connection was refused or failed.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static ValueTask<SocketTransport> ConnectAsync(IPEndPoint remote, TimeSpan timeout, CancellationToken cancellationToken) =>
        ConnectAsync(remote, timeout, pool: null, TimeProvider.System, cancellationToken);

    /// <summary>
    /// Connects to <paramref name="remote"/> over TCP with pipe buffers from <paramref name="pool"/> (null: the
    /// shared pool). A session should pass one <see cref="BlockMemoryPool"/> to all its transports so that
    /// steady-state transfers allocate nothing.
    /// </summary>
    /// <exception cref="TimeoutException">The connection did not complete within <paramref name="timeout"/>.</exception>
    /// <exception cref="SocketException">The connection was refused or failed.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static ValueTask<SocketTransport> ConnectAsync(IPEndPoint remote, TimeSpan timeout, MemoryPool<byte>? pool,
        CancellationToken cancellationToken) =>
        ConnectAsync(remote, timeout, pool, TimeProvider.System, cancellationToken);

    /// <summary>
    /// Connects like <see cref="ConnectAsync(IPEndPoint, TimeSpan, MemoryPool{byte}?, CancellationToken)"/>, timing
    /// out on <paramref name="time"/>'s clock.
    /// </summary>
    public static async ValueTask<SocketTransport> ConnectAsync(IPEndPoint remote, TimeSpan timeout, MemoryPool<byte>? pool,
        TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(remote);
        ArgumentNullException.ThrowIfNull(time);
        var socket = new Socket(remote.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            using var deadline = new Deadline(timeout, time, cancellationToken);
            try
            {
                await socket.ConnectAsync(remote, deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"connecting to {remote} timed out after {timeout.TotalSeconds:0.#} s");
            }

            return new SocketTransport(socket, pool, time);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Wraps a socket returned by <c>Socket.AcceptAsync</c>; the transport owns it from now on.</summary>
    public static SocketTransport FromAccepted(Socket socket) => FromAccepted(socket, pool: null);

    /// <summary>Wraps an accepted socket, with pipe buffers from <paramref name="pool"/> (null: the shared pool).</summary>
    public static SocketTransport FromAccepted(Socket socket, MemoryPool<byte>? pool) => FromAccepted(socket, pool, TimeProvider.System);

    /// <summary>Wraps an accepted socket; disposal's drain timeout runs on <paramref name="time"/>'s clock.</summary>
    public static SocketTransport FromAccepted(Socket socket, MemoryPool<byte>? pool, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(time);
        return new SocketTransport(socket, pool, time);
    }

    /// <inheritdoc />
    public override void Abort()
    {
        _aborted = true;
        _socket.Dispose(); // fails the pending receive and send, which end the loops
    }

    /// <inheritdoc />
    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;

        // Complete the app's ends (as Kestrel does): the send loop drains what was written, then sends FIN.
        _receivePipe.Reader.Complete();
        _sendPipe.Writer.Complete();
        try
        {
            await _sendTask.WaitAsync(DrainTimeout, _time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // The peer is not reading; drop the rest.
        }

        Abort();
        await _receiveTask.ConfigureAwait(false);
        await _sendTask.ConfigureAwait(false);
    }

    private async Task ReceiveLoopAsync()
    {
        PipeWriter writer = _receivePipe.Writer;
        Exception? error = null;
        try
        {
            bool drained = true;
            while (true)
            {
                // An idle connection holds no buffer: once a read has emptied the socket, wait for data with a
                // zero-byte read first. A read that filled its buffer means more is probably queued: read on.
                if (drained)
                    await _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None).ConfigureAwait(false);

                Memory<byte> memory = writer.GetMemory(_segmentSize);
                int received = await _socket.ReceiveAsync(memory, SocketFlags.None).ConfigureAwait(false);
                if (received == 0) break; // the peer closed cleanly
                drained = received < memory.Length;

                writer.Advance(received);
                FlushResult flush = await writer.FlushAsync().ConfigureAwait(false);
                if (flush.IsCompleted || flush.IsCanceled) break; // the app stopped reading
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            error = Describe(ex);
        }
        catch (Exception ex)
        {
            error = new IOException("the receive loop failed", ex);
        }
        finally
        {
            writer.Complete(error);
        }
    }

    private async Task SendLoopAsync()
    {
        PipeReader reader = _sendPipe.Reader;
        Exception? error = null;
        try
        {
            while (true)
            {
                ReadResult result = await reader.ReadAsync().ConfigureAwait(false);
                if (result.IsCanceled) break;
                ReadOnlySequence<byte> buffer = result.Buffer;
                foreach (ReadOnlyMemory<byte> segment in buffer)
                {
                    ReadOnlyMemory<byte> rest = segment;
                    while (!rest.IsEmpty)
                    {
                        int sent = await _socket.SendAsync(rest, SocketFlags.None).ConfigureAwait(false);
                        rest = rest[sent..];
                    }
                }

                reader.AdvanceTo(buffer.End);
                if (result.IsCompleted) break;
            }

            try
            {
                _socket.Shutdown(SocketShutdown.Send); // FIN: everything written has been sent
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                // Already gone; nothing left to tell the peer.
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            error = Describe(ex);
        }
        catch (Exception ex)
        {
            error = new IOException("the send loop failed", ex);
        }
        finally
        {
            reader.Complete(error);
        }

        if (error is not null && !_aborted)
        {
            // A send failure kills the connection: stop the receive loop too, telling it why.
            _closeReason ??= error;
            _aborted = true;
            _socket.Dispose();
        }
    }

    private Exception Describe(Exception ex)
    {
        if (_closeReason is { } reason) return reason;
        if (ex is SocketException se)
        {
            return se.SocketErrorCode switch
            {
                SocketError.ConnectionReset => new IOException($"connection reset by {_remote}", ex),
                SocketError.OperationAborted or SocketError.Interrupted when _aborted =>
                    new IOException("the transport was aborted", ex),
                _ => new IOException($"connection to {_remote} failed: {se.SocketErrorCode}", ex),
            };
        }

        return new IOException("the transport was aborted", ex);
    }
}
