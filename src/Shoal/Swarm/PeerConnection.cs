using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Shoal.Discovery;
using Shoal.Metainfo;
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
    /// <summary>
    /// Most bytes queued for the peer (<see cref="OutboundMessage.MemoryCost"/>: entries plus the payloads they carry),
    /// on top of our bitfield; a peer that lets more pile up is not reading and is dropped. 16,384 bare entries: room for
    /// a full request queue (UploadRequests.MaxQueuedPerPeer) with the rejects and control messages around it.
    /// </summary>
    public const int MaxQueuedBytes = 512 * 1024;

    /// <summary>
    /// Most bytes of received payloads (bitfield, extension messages) the actor has not handled yet; past it the
    /// receive loop stops reading until the actor catches up, so a fast sender pushes back on itself through TCP.
    /// </summary>
    public const int MaxUnhandledBytes = 256 * 1024;

    /// <summary>
    /// Largest extension message accepted: everything we advertise fits (the extension handshake and ut_pex are
    /// capped at 64 KiB, ut_metadata at one 16 KiB piece and its header). Larger is a protocol error.
    /// </summary>
    public const int MaxExtendedPayload = ExtensionHandshake.MaxPayloadLength;

    /// <summary>Flush the socket after this many unflushed bytes even if more messages are queued.</summary>
    private const int FlushThreshold = 256 * 1024;

    private readonly PeerTransport _transport;
    private readonly PeerSendQueue _outbound;
    private readonly PeerMemoryBudget _memory;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stop = new();
    private readonly UnhandledPayloads _unhandled;
    private readonly PartialMessageClock _partial = new();
    private long _uploaded;
    private long _lastReceivedTimestamp;
    private long _lastSentTimestamp;
    private long _flushSince;     // when the pending flush began waiting for the socket (0: none)
    private long _usefulSeen = -1;
    private int _requestsReceived; // counted by the receive loop
    private volatile bool _ignoresUnchokes;
    private bool _amChoking = true;
    private long _unchokedAt;
    private int _requestsAtUnchoke;
    private int _chokeEpoch;
    private string? _closeReason;

    public PeerConnection(int key, long connectionId, PendingPeer pending, int pieceCount, long now, PeerMemoryBudget memory, TimeProvider time)
    {
        _memory = memory;
        _time = time;
        // A torrent of millions of pieces has a bitfield of hundreds of KiB: it must fit beside the usual traffic.
        _outbound = new PeerSendQueue(MaxQueuedBytes + ((pieceCount + 7L) / 8), memory);
        _unhandled = new UnhandledPayloads(memory, MaxUnhandledBytes);
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
        SupportsV2 = pending.Handshake.Reserved.SupportsV2;
        HandshakeInfoHash = pending.Handshake.InfoHash;
        Has = new BitField(pieceCount);
        ConnectedAt = now;
        LastBlockAt = now;
        LastUsefulAt = now;
        _lastReceivedTimestamp = now;
        _lastSentTimestamp = now;
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

    /// <summary>The peer set BEP 52's v2 bit in its handshake.</summary>
    public bool SupportsV2 { get; }

    /// <summary>The info-hash the peer's handshake named (a hybrid torrent is reached by its v1 or its truncated v2 hash).</summary>
    public InfoHash HandshakeInfoHash { get; }

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

    /// <summary>We choke the peer (the start of a turn is noted when this becomes false, see <see cref="WantsUnchoke"/>).</summary>
    public bool AmChoking
    {
        get => _amChoking;
        set
        {
            if (_amChoking && !value)
            {
                _unchokedAt = _time.GetTimestamp();
                _requestsAtUnchoke = Volatile.Read(ref _requestsReceived);
            }
            _amChoking = value;
        }
    }

    /// <summary>
    /// Interested, and not a peer that ignored its last unchoke (<see cref="PeerInactivity.UnchokeGrace"/>): what the
    /// choker and free unchoke slots go by.
    /// </summary>
    public bool WantsUnchoke => PeerInterested && !_ignoresUnchokes;

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

    /// <summary>When the last complete message arrived (keep-alives included; a message still arriving does not count).</summary>
    public long LastReceivedTimestamp => Interlocked.Read(ref _lastReceivedTimestamp);

    /// <summary>When payload last moved between us, either way (see <see cref="NoteProgress"/>); owned by the actor.</summary>
    public long LastUsefulAt { get; private set; }

    public long LastSentTimestamp => Interlocked.Read(ref _lastSentTimestamp);

    /// <summary>Requests from the peer queued for upload and not sent yet.</summary>
    public int QueuedUploads => _outbound.Pieces;

    /// <summary>Bytes queued for the peer and not written to its socket yet (<see cref="OutboundMessage.MemoryCost"/>).</summary>
    public long QueuedBytes => _outbound.Bytes;

    /// <summary>Incremented each time we choke the peer; voids uploads queued before.</summary>
    public int ChokeEpoch => Volatile.Read(ref _chokeEpoch);

    public string? CloseReason => _closeReason;

    // ---- actor-side operations -------------------------------------------------------------------------

    /// <summary>
    /// The actor's tick: moves <see cref="LastUsefulAt"/> to <paramref name="now"/> when payload moved since the last
    /// call, and marks a peer that has been unchoked for <see cref="PeerInactivity.UnchokeGrace"/> without asking for
    /// anything as ignoring unchokes (until its next request). True when it has just been so marked: choke it.
    /// </summary>
    public bool NoteProgress(long now)
    {
        long useful = Downloaded + Uploaded;
        if (useful != _usefulSeen)
        {
            if (_usefulSeen >= 0) LastUsefulAt = now;
            _usefulSeen = useful;
        }
        if (!_amChoking && PeerInterested && !_ignoresUnchokes && Volatile.Read(ref _requestsReceived) == _requestsAtUnchoke
            && _time.GetElapsedTime(_unchokedAt, now) >= PeerInactivity.UnchokeGrace)
        {
            _ignoresUnchokes = true;
            return true;
        }
        return false;
    }

    /// <summary>What the connection measured, for <see cref="PeerInactivity.Verdict"/> and <see cref="ConnectionAdmission"/>.</summary>
    public PeerActivity Activity(long now)
    {
        TimeProvider time = _time;
        long partial = _partial.Since;
        long flush = Interlocked.Read(ref _flushSince);
        return new PeerActivity(
            time.GetElapsedTime(LastReceivedTimestamp, now),
            partial == 0 ? null : time.GetElapsedTime(partial, now),
            _partial.Length,
            flush == 0 ? null : time.GetElapsedTime(flush, now),
            time.GetElapsedTime(LastUsefulAt, now),
            (WantsUnchoke && AmChoking) || (AmInterested && PeerChoking));
    }

    /// <summary>
    /// Queues a message. A peer whose queue would pass <see cref="MaxQueuedBytes"/> (plus the bitfield's size) is not
    /// reading and gets disconnected instead (the message is dropped with it).
    /// </summary>
    public void Send(in OutboundMessage message)
    {
        if (!_outbound.TryEnqueue(message, out long waiting)) Close($"stopped reading ({waiting / 1024} KiB waiting to be sent)");
    }

    /// <summary>The actor has handled a received payload of <paramref name="bytes"/> (see <see cref="MaxUnhandledBytes"/>).</summary>
    public void ReleaseUnhandled(int bytes) => _unhandled.Release(bytes);

    /// <summary>Queues an extended message (BEP 10).</summary>
    public void SendExtended(byte id, byte[] payload) => Send(new OutboundMessage(MessageId.Extended, id, Data: payload));

    /// <summary>Queues a BEP 52 hash request, hashes or hash reject message.</summary>
    public void SendHashMessage(HashMessage message) => Send(new OutboundMessage(message.Id, Data: message.ToBody()));

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
        _outbound.Complete();
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
        _outbound.Dequeued(message);
        return true;
    }

    /// <summary>A received payload of <paramref name="bytes"/> goes to the actor: counted until it is handled (<see cref="ReleaseUnhandled"/>).</summary>
    internal void NoteUnhandled(int bytes) => _unhandled.Add(bytes);

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
        // Closing completed the queue, so nothing joins it now: what is left was never sent and frees its memory here.
        _outbound.DropUnsent();
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
            bool readAny = false;
            try
            {
                while (reader.TryRead(ref buffer, out PeerMessage message))
                {
                    Interlocked.Exchange(ref _lastReceivedTimestamp, context.Time.GetTimestamp());
                    if (!readAny)
                    {
                        // The message that was arriving is complete: its clock stops (our own waits below, for the
                        // mailbox, the download cap or memory, are not the peer's slowness).
                        readAny = true;
                        _partial.Stop();
                    }
                    if (message.Id == MessageId.KeepAlive) continue;
                    if (message.Id is MessageId.Piece or MessageId.Bitfield or MessageId.Extended)
                    {
                        if (message.Id == MessageId.Extended && message.Payload.Length > MaxExtendedPayload)
                            throw new WireProtocolException($"extension message of {message.Payload.Length} bytes, more than the {MaxExtendedPayload} any of ours needs");
                        // The message is about to be copied out of the socket buffer: wait while the session is at its
                        // memory ceiling, and while this peer already has more unhandled payloads than it may.
                        await _memory.WaitForRoomAsync(token).ConfigureAwait(false);
                        if (message.Id != MessageId.Piece) await _unhandled.WaitForRoomAsync(token).ConfigureAwait(false);
                    }
                    if (message.Id == MessageId.Piece)
                    {
                        // Pay for the block before handing it on: waiting here stops reading the socket,
                        // which is how a download cap pushes back on the sender through TCP.
                        await context.TakeDownloadAsync(message.Length, token).ConfigureAwait(false);
                    }
                    TorrentEvent item = ToEvent(message, context);
                    try
                    {
                        await context.Mailbox.WriteAsync(item, token).ConfigureAwait(false);
                    }
                    catch
                    {
                        // Never delivered: give back what the event holds, or the session would count it forever.
                        if (item.Buffer is not null) context.Blocks.Return(item.Buffer);
                        if (item.Payload is byte[] copy) ReleaseUnhandled(copy.Length);
                        throw;
                    }
                }
            }
            finally
            {
                input.AdvanceTo(buffer.Start, buffer.End);
            }
            _partial.Note(buffer, readAny, context.Time);
            if (result.IsCompleted || result.IsCanceled) return;
        }
    }

    private TorrentEvent ToEvent(in PeerMessage message, PeerLoopContext context)
    {
        byte[]? buffer = null;
        object? payload = null;
        switch (message.Id)
        {
            case MessageId.Request:
                Interlocked.Increment(ref _requestsReceived);
                _ignoresUnchokes = false;
                break;
            case MessageId.Piece:
                buffer = context.Blocks.Rent(message.Length);
                message.Payload.CopyTo(buffer);
                break;
            case MessageId.Bitfield:
            case MessageId.Extended:
                byte[] copy = message.Payload.ToArray();
                NoteUnhandled(copy.Length);
                payload = copy;
                break;
            case MessageId.HashRequest:
            case MessageId.Hashes:
            case MessageId.HashReject:
                payload = HashMessage.Parse(message.Id, message.Payload);
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
                    try
                    {
                        unflushed += await WriteAsync(output, message, context, token).ConfigureAwait(false);
                    }
                    finally
                    {
                        _outbound.Dequeued(message);
                    }
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
        ValueTask<FlushResult> flushing = output.FlushAsync(token);
        FlushResult flushed;
        if (flushing.IsCompleted)
        {
            flushed = flushing.Result;
        }
        else
        {
            // The pipe is full because the socket takes nothing: the clock of PeerInactivity.SendStallTimeout runs.
            Interlocked.Exchange(ref _flushSince, context.Time.GetTimestamp());
            try { flushed = await flushing.ConfigureAwait(false); }
            finally { Interlocked.Exchange(ref _flushSince, 0); }
        }
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
            case MessageId.HashRequest:
            case MessageId.Hashes:
            case MessageId.HashReject:
                PeerMessageWriter.WriteHashMessage(output, message.Id, message.Data);
                return 5 + message.Data!.Length;
            default:
                throw new InvalidOperationException($"cannot send {message.Id}");
        }
    }
}
