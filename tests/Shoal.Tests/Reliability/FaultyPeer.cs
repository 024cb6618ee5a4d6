using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Shoal.Metainfo;
using Shoal.Transport;
using Shoal.Wire;

namespace Shoal.Tests.Reliability;

/// <summary>
/// A purpose-built misbehaving peer: a real TCP listener on a loopback address that runs a scripted behaviour
/// on every connection it accepts, speaking the wire protocol with the project's own Wire types.
/// </summary>
internal sealed class FaultyPeer : IAsyncDisposable
{
    private readonly PeerListener _listener;
    private readonly Func<FaultyConnection, int, CancellationToken, Task> _behaviour;
    private readonly ReservedBits? _reserved;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _acceptLoop;
    private readonly List<Task> _connections = [];
    private int _accepted;

    /// <param name="address">Loopback address to listen on (127.0.0.x: a ban of one address spares the others).</param>
    /// <param name="infoHash">The torrent the peer pretends to share.</param>
    /// <param name="pieceCount">Piece count, so the message reader checks indices.</param>
    /// <param name="behaviour">Runs per accepted connection after the handshake; the int is the connection's ordinal (0 first).</param>
    /// <param name="reserved">Reserved bits of its handshakes (default: fast extension, no BEP 10).</param>
    public FaultyPeer(IPAddress address, InfoHash infoHash, int pieceCount, Func<FaultyConnection, int, CancellationToken, Task> behaviour,
        ReservedBits? reserved = null)
    {
        _reserved = reserved;
        InfoHash = infoHash;
        PieceCount = pieceCount;
        _behaviour = behaviour;
        _listener = PeerListener.Start(new IPEndPoint(address, 0));
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    public IPEndPoint EndPoint => _listener.LocalEndPoint;

    public InfoHash InfoHash { get; }

    public int PieceCount { get; }

    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>First exception a behaviour threw that was not a plain disconnect; surfaced by the tests.</summary>
    public Exception? Failure { get; private set; }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            SocketTransport transport;
            try
            {
                transport = await _listener.AcceptAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                return;
            }
            var connection = new FaultyConnection(transport, InfoHash, PieceCount)
            {
                Reserved = _reserved ?? ReservedBits.Create(extension: false, fast: true, dht: false),
            };
            lock (_connections) _connections.Add(RunAsync(connection));
        }
    }

    private async Task RunAsync(FaultyConnection connection)
    {
        try
        {
            try
            {
                await connection.AcceptHandshakeAsync(_stop.Token);
            }
            catch (WireProtocolException)
            {
                // An encrypted (MSE) attempt: like any plaintext-only client, this peer hangs up, and the dialler
                // comes back in plaintext. Only BitTorrent connections count as the behaviour's ordinals.
                return;
            }
            int ordinal = Interlocked.Increment(ref _accepted) - 1;
            await _behaviour(connection, ordinal, _stop.Token);
        }
        catch (Exception ex) when (FaultyConnection.IsDisconnect(ex) || _stop.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            Failure ??= ex;
        }
        finally
        {
            await connection.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        await _listener.DisposeAsync();
        await _acceptLoop;
        Task[] running;
        lock (_connections) running = [.. _connections];
        await Task.WhenAll(running).WaitAsync(TimeSpan.FromSeconds(10));
        _stop.Dispose();
    }
}

/// <summary>A simplified view of a received message (the payload is not kept: it lives in the pipe's buffer).</summary>
/// <summary>A message as a faulty peer received it; <paramref name="ExtendedId"/> is the BEP 10 id of an extended message (0 otherwise).</summary>
internal readonly record struct WireMessage(MessageId Id, int Index, int Begin, int Length, byte ExtendedId = 0);

/// <summary>One connection of a faulty peer: handshake, typed sends, typed receives.</summary>
internal sealed class FaultyConnection : IAsyncDisposable
{
    private readonly PeerTransport _transport;
    private readonly PeerMessageReader _reader;
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private int _disposed;

    public FaultyConnection(PeerTransport transport, InfoHash infoHash, int pieceCount, byte[]? peerId = null)
    {
        _transport = transport;
        _reader = new PeerMessageReader(pieceCount);
        InfoHash = infoHash;
        PeerId = peerId ?? NewPeerId();
    }

    public InfoHash InfoHash { get; }

    public byte[] PeerId { get; }

    public IPEndPoint RemoteEndPoint => _transport.RemoteEndPoint;

    /// <summary>Our end of a connection we dialled; null on accepted ones.</summary>
    public IPEndPoint? LocalEndPoint { get; private init; }

    /// <summary>Reserved bits the remote sent in its handshake.</summary>
    public ReservedBits RemoteReserved { get; private set; }

    public static byte[] NewPeerId()
    {
        byte[] id = new byte[Handshake.PeerIdLength];
        "-FT0001-"u8.CopyTo(id);
        Random.Shared.NextBytes(id.AsSpan(8));
        return id;
    }

    /// <summary>Opens a TCP connection from <paramref name="localAddress"/> (any port) to <paramref name="remote"/>, with <paramref name="peerId"/> or a fresh one.</summary>
    public static async Task<FaultyConnection> ConnectAsync(IPAddress localAddress, IPEndPoint remote, InfoHash infoHash, int pieceCount,
        CancellationToken cancellationToken, byte[]? peerId = null, ReservedBits? reserved = null)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(new IPEndPoint(localAddress, 0));
            await socket.ConnectAsync(remote, cancellationToken);
            var local = (IPEndPoint)socket.LocalEndPoint!;
            return new FaultyConnection(SocketTransport.FromAccepted(socket), infoHash, pieceCount, peerId)
            {
                LocalEndPoint = local,
                Reserved = reserved ?? ReservedBits.Create(extension: false, fast: true, dht: false),
            };
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>True for the ways a connection ends when the other side drops it.</summary>
    public static bool IsDisconnect(Exception ex) =>
        ex is IOException or SocketException or ObjectDisposedException or InvalidOperationException or EndOfStreamException
            or OperationCanceledException;

    /// <summary>Responder side: read the remote's handshake, answer with ours (fast extension on, no BEP 10).</summary>
    public async Task AcceptHandshakeAsync(CancellationToken cancellationToken)
    {
        Handshake theirs = await ReadHandshakeAsync(cancellationToken);
        RemoteReserved = theirs.Reserved;
        if (theirs.InfoHash != InfoHash) throw new InvalidDataException("handshake for another torrent");
        await WriteHandshakeAsync(cancellationToken);
    }

    /// <summary>Initiator side: send our handshake, then read the answer.</summary>
    public async Task InitiateHandshakeAsync(CancellationToken cancellationToken)
    {
        await WriteHandshakeAsync(cancellationToken);
        Handshake theirs = await ReadHandshakeAsync(cancellationToken);
        RemoteReserved = theirs.Reserved;
    }

    /// <summary>The reserved bits we send: fast extension on, no BEP 10, unless a test says otherwise.</summary>
    public ReservedBits Reserved { get; init; } = ReservedBits.Create(extension: false, fast: true, dht: false);

    public Task WriteHandshakeAsync(CancellationToken cancellationToken) =>
        SendAsync(w => new Handshake(InfoHash, PeerId, Reserved).WriteTo(w), cancellationToken);

    private async Task<Handshake> ReadHandshakeAsync(CancellationToken cancellationToken)
    {
        PipeReader input = _transport.Input;
        while (true)
        {
            ReadResult result = await input.ReadAsync(cancellationToken);
            ReadOnlySequence<byte> buffer = result.Buffer;
            bool parsed = Handshake.TryParse(ref buffer, out Handshake handshake);
            if (parsed)
            {
                input.AdvanceTo(buffer.Start);
                return handshake;
            }
            input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted) throw new EndOfStreamException("closed during the handshake");
        }
    }

    /// <summary>Writes whatever <paramref name="write"/> produces and flushes it, one writer at a time.</summary>
    public async Task SendAsync(Action<IBufferWriter<byte>> write, CancellationToken cancellationToken)
    {
        await _writeGate.WaitAsync(cancellationToken);
        try
        {
            write(_transport.Output);
            FlushResult flushed = await _transport.Output.FlushAsync(cancellationToken);
            if (flushed.IsCompleted) throw new IOException("the connection is closed");
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <summary>The payload of the last PIECE, BITFIELD, HASH REQUEST or extended message <see cref="ReceiveAsync"/> returned, when it was asked to keep it.</summary>
    public byte[]? LastPayload { get; private set; }

    /// <summary>Next message (keep-alives included); null when the remote closed the connection. With <paramref name="keepPayload"/>, a PIECE's, BITFIELD's, HASH REQUEST's or extended message's payload is copied to <see cref="LastPayload"/>.</summary>
    public async Task<WireMessage?> ReceiveAsync(CancellationToken cancellationToken, bool keepPayload = false)
    {
        PipeReader input = _transport.Input;
        while (true)
        {
            ReadResult result = await input.ReadAsync(cancellationToken);
            ReadOnlySequence<byte> buffer = result.Buffer;
            WireMessage? message = null;
            try
            {
                if (_reader.TryRead(ref buffer, out PeerMessage parsed))
                {
                    message = new WireMessage(parsed.Id, parsed.Index, parsed.Begin, parsed.Length, parsed.ExtendedId);
                    if (keepPayload && parsed.Id is MessageId.Piece or MessageId.Bitfield or MessageId.HashRequest or MessageId.Extended) LastPayload = parsed.Payload.ToArray();
                }
            }
            finally
            {
                if (message is not null) input.AdvanceTo(buffer.Start);
                else input.AdvanceTo(buffer.Start, buffer.End);
            }
            if (message is not null) return message;
            if (result.IsCompleted || result.IsCanceled) return null;
        }
    }

    /// <summary>Reads and discards until the remote closes; true when it did within <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitForRemoteCloseAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            while (true)
            {
                ReadResult result = await _transport.Input.ReadAsync(cts.Token);
                _transport.Input.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted) return true;
            }
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (Exception ex) when (IsDisconnect(ex))
        {
            return true;
        }
    }

    /// <summary>
    /// Closes our side the clean way (FIN after what was sent) and reads until the remote closes too, so the close is
    /// never a reset: a reset may overtake bytes the remote has received but not read yet, which it then never sees.
    /// </summary>
    public async Task<bool> CloseAndDrainAsync(TimeSpan timeout)
    {
        await _writeGate.WaitAsync();
        try { await _transport.Output.CompleteAsync(); }
        finally { _writeGate.Release(); }
        return await WaitForRemoteCloseAsync(timeout);
    }

    /// <summary>Drops the connection with no goodbye (RST when data is unread).</summary>
    public void Abort() => _transport.Abort();

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        try { await _transport.DisposeAsync(); } catch (Exception ex) when (IsDisconnect(ex)) { }
        _writeGate.Dispose();
    }
}
