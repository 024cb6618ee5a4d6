using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Shoal.Discovery;
using Shoal.Picking;
using Shoal.Storage;
using Shoal.Transport;
using Shoal.Wire;

namespace Shoal.Swarm;

/// <summary>
/// One peer of one torrent. The torrent actor owns the protocol state (choke and interest flags, the peer's
/// pieces, our outstanding requests); the connection runs two loops of its own: a receive loop that parses
/// frames and posts them to the actor's mailbox, and a send loop that is the only writer of the socket.
/// The few fields the loops share with the actor are counters and flags read with Volatile/Interlocked.
/// </summary>
internal sealed class PeerConnection : IExtensionPeer
{
    /// <summary>Most queued outbound messages; a peer that lets this fill is not reading and is dropped.</summary>
    /// <remarks>Room for a full request queue (UploadRequests.MaxQueuedPerPeer) plus the rejects and control messages around it.</remarks>
    private const int OutboundCapacity = 16384;

    /// <summary>Flush the socket after this many unflushed bytes even if more messages are queued.</summary>
    private const int FlushThreshold = 256 * 1024;

    private readonly PeerTransport _transport;
    private readonly Channel<OutboundMessage> _outbound;
    private readonly CancellationTokenSource _stop = new();
    private long _uploaded;
    private long _lastReceivedTimestamp;
    private long _lastSentTimestamp;
    private int _chokeEpoch;
    private int _queuedUploads;
    private string? _closeReason;

    public PeerConnection(int key, long connectionId, PendingPeer pending, int pieceCount, long now)
    {
        Key = key;
        ConnectionId = connectionId;
        _transport = pending.Transport;
        EndPoint = pending.Transport.RemoteEndPoint;
        DialedEndPoint = pending.DialedEndPoint;
        Connector = pending.Connector;
        PeerId = pending.Handshake.PeerId.ToArray();
        Client = PeerIdentity.ClientName(PeerId);
        Incoming = pending.Incoming;
        Encryption = pending.Transport.Encryption;
        Protocol = pending.Transport.Protocol;
        SupportsFast = pending.Handshake.Reserved.SupportsFast;
        SupportsExtensions = pending.Handshake.Reserved.SupportsExtensionProtocol;
        SupportsDht = pending.Handshake.Reserved.SupportsDht;
        Has = new BitField(pieceCount);
        ConnectedAt = now;
        LastBlockAt = now;
        _lastReceivedTimestamp = now;
        _lastSentTimestamp = now;
        _outbound = Channel.CreateBounded<OutboundMessage>(new BoundedChannelOptions(OutboundCapacity)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    // ---- identity -------------------------------------------------------------------------------------

    /// <summary>Small integer the picker and choker know this peer by; unique within the torrent.</summary>
    public int Key { get; }

    /// <summary>Unique within the session for the life of the connection.</summary>
    public long ConnectionId { get; }

    public IPEndPoint EndPoint { get; }

    /// <summary>The candidate we dialled, when outgoing.</summary>
    public IPEndPoint? DialedEndPoint { get; }

    /// <summary>What the connection came through ("tcp"); null when not known.</summary>
    public string? Connector { get; }

    public byte[] PeerId { get; }

    public string Client { get; }

    public bool Incoming { get; }

    /// <summary>Plain, or MSE/PE obfuscated or RC4 (from the transport the handshake left us).</summary>
    public Transport.Encryption.PeerEncryption Encryption { get; }

    /// <summary>What carries the connection's bytes: TCP or uTP (under any encryption).</summary>
    public Transport.TransportProtocol Protocol { get; }

    /// <summary>Where we learned of the peer (for incoming peers: Incoming, plus anything we knew of its address).</summary>
    public PeerSource Source { get; set; }

    /// <summary>Both sides set the BEP 6 bit (we always do).</summary>
    public bool SupportsFast { get; }

    /// <summary>The peer runs a DHT node (BEP 5 reserved bit): it gets our PORT message.</summary>
    public bool SupportsDht { get; }

    /// <summary>Both sides set the BEP 10 bit (we always do).</summary>
    public bool SupportsExtensions { get; }

    /// <summary>The peer's extension handshake (BEP 10), merged with any later one.</summary>
    public ExtensionHandshake? Extensions { get; set; }

    /// <summary>What we told this peer through PEX (BEP 11); created when first needed.</summary>
    public PexTracker? Pex { get; set; }

    /// <summary>What we asked this peer for over BEP 9.</summary>
    public MetadataPeerState Metadata { get; } = new();

    /// <summary>
    /// Where the peer accepts connections: the address we dialled, or for an incoming peer its address with
    /// the port from its extension handshake. Null when not known (PEX then leaves it out).
    /// </summary>
    public IPEndPoint? ListenEndPoint => !Incoming
        ? DialedEndPoint ?? EndPoint
        : Extensions?.ListenPort is int port and > 0 and <= 65535 ? new IPEndPoint(EndPoint.Address, port) : null;

    public long ConnectedAt { get; }

    // ---- state owned by the torrent actor -----------------------------------------------------------

    /// <summary>Pieces the peer has (empty until the torrent's metadata is known).</summary>
    public BitField Has { get; set; }

    /// <summary>
    /// What the peer announced before we knew the piece count (magnet links): its bitfield bytes, or that it
    /// has everything, and the HAVEs that followed. Applied once the metadata arrives, then dropped.
    /// </summary>
    public EarlyAvailability? Early { get; set; }

    public bool AmChoking { get; set; } = true;
    public bool AmInterested { get; set; }
    public bool PeerChoking { get; set; } = true;
    public bool PeerInterested { get; set; }

    /// <summary>Set when the peer stopped delivering what we asked for; its requests went to others.</summary>
    public bool IsSnubbed { get; set; }

    /// <summary>Our requests the peer has not answered yet.</summary>
    public HashSet<BlockRequest> Outstanding { get; } = [];

    /// <summary>Pieces the peer lets us fetch while it chokes us (BEP 6).</summary>
    public List<int> AllowedFast { get; } = [];

    /// <summary>Payload bytes received from the peer.</summary>
    public long Downloaded { get; set; }

    /// <summary>Requests refused because the peer already had the most it may queue with us.</summary>
    public int OverflowRequests { get; set; }

    /// <summary>Blocks that arrived without being asked for (or after we cancelled them).</summary>
    public int UnexpectedBlocks { get; set; }

    /// <summary>Blocks we cancelled (endgame) that may still arrive; they are not counted as unexpected.</summary>
    public int CancelledInFlight { get; set; }

    /// <summary>Pieces this peer contributed to that failed the hash check.</summary>
    public int HashFailures { get; set; }

    /// <summary>When the last requested block arrived (or when requests started, for the snub timer).</summary>
    public long LastBlockAt { get; set; }

    public RateMeter DownloadMeter;
    public RateMeter UploadMeter;

    // ---- shared with the loops -------------------------------------------------------------------------

    /// <summary>Payload bytes sent; written by the send loop.</summary>
    public long Uploaded => Interlocked.Read(ref _uploaded);

    public long LastReceivedTimestamp => Interlocked.Read(ref _lastReceivedTimestamp);

    public long LastSentTimestamp => Interlocked.Read(ref _lastSentTimestamp);

    /// <summary>Requests from the peer queued for upload and not sent yet.</summary>
    public int QueuedUploads => Volatile.Read(ref _queuedUploads);

    /// <summary>Incremented each time we choke the peer; voids uploads queued before.</summary>
    public int ChokeEpoch => Volatile.Read(ref _chokeEpoch);

    public string? CloseReason => _closeReason;

    // ---- actor-side operations -------------------------------------------------------------------------

    /// <summary>Queues a message; a peer whose queue is full is not reading and gets disconnected.</summary>
    public void Send(in OutboundMessage message)
    {
        if (message.Id == MessageId.Piece) Interlocked.Increment(ref _queuedUploads);
        if (!_outbound.Writer.TryWrite(message))
        {
            if (message.Id == MessageId.Piece) Interlocked.Decrement(ref _queuedUploads);
            Close("stopped reading (send queue full)");
        }
    }

    /// <summary>Queues an extended message (BEP 10).</summary>
    public void SendExtended(byte id, byte[] payload) => Send(new OutboundMessage(MessageId.Extended, id, Data: payload));

    /// <summary>Chokes the peer: queued uploads are voided (and rejected, with the fast extension).</summary>
    public void Choke()
    {
        AmChoking = true;
        Interlocked.Increment(ref _chokeEpoch);
        Send(new OutboundMessage(MessageId.Choke));
    }

    /// <summary>Stops both loops; the receive loop then reports PeerClosed to the actor.</summary>
    public void Close(string reason)
    {
        Interlocked.CompareExchange(ref _closeReason, reason, null);
        _outbound.Writer.TryComplete();
        if (!_stop.IsCancellationRequested)
        {
            try { _stop.Cancel(); } catch (ObjectDisposedException) { }
        }
        _transport.Abort();
    }

    // ---- without loops: a simulated network moves the messages itself (tests) ---------------------------

    /// <summary>Takes the next queued outbound message as the send loop would; false when none is queued.</summary>
    internal bool TryTakeOutbound(out OutboundMessage message)
    {
        if (!_outbound.Reader.TryRead(out message)) return false;
        if (message.Id == MessageId.Piece) Interlocked.Decrement(ref _queuedUploads);
        return true;
    }

    /// <summary>Records traffic as the loops do: bytes seen from the peer, a flush to it, payload sent.</summary>
    internal void NoteTraffic(long now, bool received, bool sent, int payloadSent)
    {
        if (received) Interlocked.Exchange(ref _lastReceivedTimestamp, now);
        if (sent) Interlocked.Exchange(ref _lastSentTimestamp, now);
        if (payloadSent > 0) Interlocked.Add(ref _uploaded, payloadSent);
    }

    // ---- loops ----------------------------------------------------------------------------------------

    /// <summary>Runs both loops until the connection ends, then posts PeerClosed. Never throws.</summary>
    public async Task RunAsync(PeerLoopContext context)
    {
        Task send = Task.Run(() => SendLoopAsync(context));
        Exception? error = null;
        try
        {
            await ReceiveLoopAsync(context).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException && _stop.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            error = ex;
        }
        Close(error is null ? "connection closed" : Describe(error));
        try { await send.ConfigureAwait(false); } catch (Exception ex) { error ??= ex; }
        try { await _transport.DisposeAsync().ConfigureAwait(false); } catch (Exception) { /* already failing; nothing to add */ }
        _stop.Dispose();
        // The slot goes back here rather than in the actor, so it is returned even when the torrent is
        // already shutting down and no longer reads its mailbox.
        context.ReleaseConnection();
        try
        {
            await context.Mailbox.WriteAsync(new TorrentEvent { Kind = TorrentEventKind.PeerClosed, Peer = this, Error = error }).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            // The torrent stopped; it has forgotten every peer already.
        }
    }

    private static string Describe(Exception error) => error switch
    {
        WireProtocolException wire => "protocol error: " + wire.Message,
        IOException io => "I/O error: " + io.Message,
        _ => error.GetType().Name + ": " + error.Message,
    };

    private async Task ReceiveLoopAsync(PeerLoopContext context)
    {
        PipeReader input = _transport.Input;
        var reader = new PeerMessageReader(context.PieceCount);
        CancellationToken token = _stop.Token;
        while (true)
        {
            ReadResult result = await input.ReadAsync(token).ConfigureAwait(false);
            // A magnet torrent learns its piece count mid-connection; from then on indices are checked too.
            if (reader.PieceCount != context.PieceCount) reader.PieceCount = context.PieceCount;
            ReadOnlySequence<byte> buffer = result.Buffer;
            try
            {
                if (!buffer.IsEmpty) Interlocked.Exchange(ref _lastReceivedTimestamp, context.Time.GetTimestamp());
                while (reader.TryRead(ref buffer, out PeerMessage message))
                {
                    if (message.Id == MessageId.KeepAlive) continue;
                    TorrentEvent item = ToEvent(message, context);
                    if (message.Id == MessageId.Piece)
                    {
                        // Pay for the block before handing it on: waiting here stops reading the socket,
                        // which is how a download cap pushes back on the sender through TCP.
                        await context.TakeDownloadAsync(message.Length, token).ConfigureAwait(false);
                    }
                    await context.Mailbox.WriteAsync(item, token).ConfigureAwait(false);
                }
            }
            finally
            {
                input.AdvanceTo(buffer.Start, buffer.End);
            }
            if (result.IsCompleted || result.IsCanceled) return;
        }
    }

    private TorrentEvent ToEvent(in PeerMessage message, PeerLoopContext context)
    {
        byte[]? buffer = null;
        object? payload = null;
        switch (message.Id)
        {
            case MessageId.Piece:
                buffer = context.Blocks.Rent(message.Length);
                message.Payload.CopyTo(buffer);
                break;
            case MessageId.Bitfield:
            case MessageId.Extended:
                payload = message.Payload.ToArray();
                break;
        }
        // The extended message id and the DHT port travel in Index: it is the only field those messages use.
        int index = message.Id switch
        {
            MessageId.Extended => message.ExtendedId,
            MessageId.Port => message.Port,
            _ => message.Index,
        };
        return new TorrentEvent
        {
            Kind = TorrentEventKind.Message,
            Peer = this,
            MessageId = message.Id,
            Index = index,
            Begin = message.Begin,
            Length = message.Length,
            Buffer = buffer,
            Payload = payload,
        };
    }

    private async Task SendLoopAsync(PeerLoopContext context)
    {
        PipeWriter output = _transport.Output;
        ChannelReader<OutboundMessage> queue = _outbound.Reader;
        CancellationToken token = _stop.Token;
        try
        {
            // No token on the wait, so the channel reuses its one wait object (a cancellable wait allocates one
            // each time the queue runs dry, many times a second): Close completes the queue, which ends the wait.
            while (await queue.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
            {
                long unflushed = 0;
                while (queue.TryRead(out OutboundMessage message))
                {
                    unflushed += await WriteAsync(output, message, context, token).ConfigureAwait(false);
                    if (unflushed >= FlushThreshold)
                    {
                        await FlushAsync(output, context, token).ConfigureAwait(false);
                        unflushed = 0;
                    }
                }
                if (unflushed > 0) await FlushAsync(output, context, token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The socket went away under us; the receive loop sees the same and reports it.
            Close("send failed: " + ex.Message);
        }
    }

    private async ValueTask FlushAsync(PipeWriter output, PeerLoopContext context, CancellationToken token)
    {
        FlushResult flushed = await output.FlushAsync(token).ConfigureAwait(false);
        Interlocked.Exchange(ref _lastSentTimestamp, context.Time.GetTimestamp());
        if (flushed.IsCompleted || flushed.IsCanceled) Close("connection closed while sending");
    }

    /// <summary>Writes one message; returns the bytes written.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> WriteAsync(PipeWriter output, OutboundMessage message, PeerLoopContext context, CancellationToken token)
    {
        switch (message.Id)
        {
            case MessageId.Piece:
                Interlocked.Decrement(ref _queuedUploads);
                if (message.ChokeEpoch != ChokeEpoch)
                {
                    // We choked the peer after it asked: the request is void. With the fast extension the
                    // peer expects an explicit reject for every request we will not serve.
                    if (!SupportsFast) return 0;
                    PeerMessageWriter.WriteReject(output, message.Index, message.Begin, message.Length);
                    return 17;
                }
                await context.TakeUploadAsync(message.Length, token).ConfigureAwait(false);
                PeerMessageWriter.WritePieceHeader(output, message.Index, message.Begin, message.Length);
                Memory<byte> block = output.GetMemory(message.Length)[..message.Length];
                ITorrentDisk storage = context.Storage ?? throw new InvalidOperationException("no data to upload yet");
                // Blocks in the page cache are read right here; only the rest pay the hop to a disk worker.
                if (!storage.TryReadBlockCached(message.Index, message.Begin, block.Span))
                    await storage.ReadBlockAsync(message.Index, message.Begin, block, token).ConfigureAwait(false);
                output.Advance(message.Length);
                Interlocked.Add(ref _uploaded, message.Length);
                return 13 + message.Length;
            case MessageId.Choke: PeerMessageWriter.WriteChoke(output); return 5;
            case MessageId.Unchoke: PeerMessageWriter.WriteUnchoke(output); return 5;
            case MessageId.Interested: PeerMessageWriter.WriteInterested(output); return 5;
            case MessageId.NotInterested: PeerMessageWriter.WriteNotInterested(output); return 5;
            case MessageId.Have: PeerMessageWriter.WriteHave(output, message.Index); return 9;
            case MessageId.Request: PeerMessageWriter.WriteRequest(output, message.Index, message.Begin, message.Length); return 17;
            case MessageId.Cancel: PeerMessageWriter.WriteCancel(output, message.Index, message.Begin, message.Length); return 17;
            case MessageId.Reject: PeerMessageWriter.WriteReject(output, message.Index, message.Begin, message.Length); return 17;
            case MessageId.HaveAll: PeerMessageWriter.WriteHaveAll(output); return 5;
            case MessageId.HaveNone: PeerMessageWriter.WriteHaveNone(output); return 5;
            case MessageId.AllowedFast: PeerMessageWriter.WriteAllowedFast(output, message.Index); return 9;
            case MessageId.KeepAlive: PeerMessageWriter.WriteKeepAlive(output); return 4;
            case MessageId.Port: PeerMessageWriter.WritePort(output, (ushort)message.Index); return 7;
            case MessageId.Bitfield:
                PeerMessageWriter.WriteBitfield(output, message.Data);
                return 5 + message.Data!.Length;
            case MessageId.Extended:
                PeerMessageWriter.WriteExtended(output, (byte)message.Index, message.Data);
                return 6 + message.Data!.Length;
            default:
                throw new InvalidOperationException($"cannot send {message.Id}");
        }
    }
}
