using System.Net;

namespace Shoal.Transport.Utp;

/// <summary>Where a <see cref="UtpConnection"/> is in its life.</summary>
internal enum UtpConnectionState
{
    /// <summary>Our SYN is out; waiting for the peer's STATE.</summary>
    SynSent,

    /// <summary>Open (possibly closing: FINs may be on their way in either direction).</summary>
    Connected,

    /// <summary>Ended, cleanly or not; nothing more is sent or accepted.</summary>
    Closed,
}

/// <summary>
/// One uTP connection (BEP 29): the state machine with LEDBAT congestion control, selective acks, retransmission
/// on a timeout from the measured round trip, fast retransmit, the peer's receive window, MTU discovery, pacing and
/// the FIN/RESET handshakes. It is pure: time comes in as microseconds with every call, datagrams leave through
/// <see cref="IUtpConnectionHost"/>, bytes come from and go to <see cref="IUtpStream"/>, and nothing here is a
/// thread, a timer or a lock, so a simulation drives it in virtual time. Not thread-safe: every call is made with
/// <see cref="Gate"/> held.
/// </summary>
/// <remarks>
/// Sequence-number conventions follow libtorrent and libutp (what every peer in the wild does, where BEP 29's
/// diagram differs): the SYN consumes a sequence number and is acked; a STATE packet carries the next sequence
/// number the sender will use without consuming it, so the initiator's <c>ack_nr</c> starts at the STATE's
/// <c>seq_nr - 1</c>; the initiator's receive id is random and its send id that plus one.
/// </remarks>
internal sealed partial class UtpConnection
{
    /// <summary>Most packets in flight (a power of two: the send ring).</summary>
    internal const int OutgoingCapacity = 2048;

    /// <summary>Most packets held out of order (a power of two: the reorder ring); later ones are dropped.</summary>
    internal const int ReorderCapacity = 2048;

    /// <summary>
    /// Longest selective-ack bitmask we send: a multiple of 4 (BEP 29) that fits the extension's one-byte length.
    /// Packets beyond the 2016 it covers still wait in the reorder ring; the cumulative ack reaches them later.
    /// </summary>
    private const int MaxSelectiveAckBytes = 252;

    private const int DuplicateAckThreshold = 3;
    private const int FastResendsPerAck = 4;
    private const long MaxTimeoutMicros = 60_000_000;

    /// <summary>Loss halves the window at most once in this long (and once per round trip of packets).</summary>
    private const long LossCutIntervalMicros = 100_000;

    /// <summary>The window assumed for a peer whose SYN advertises none (libtorrent's SYN says 0).</summary>
    private const int AssumedSynWindow = 16 * 1024;

    private readonly IUtpConnectionHost _host;
    private readonly UtpConnectionSettings _settings;
    private readonly IUtpStream _stream;
    private readonly RoundTripEstimator _rtt;
    private readonly LedbatController _congestion;
    private readonly DelayHistory _ourDelay = new();
    private readonly DelayHistory _theirDelay = new();
    private readonly MtuDiscovery _mtu;
    private readonly Pacer _pacer;
    private readonly uint[] _recentDelays = [uint.MaxValue, uint.MaxValue, uint.MaxValue];
    private int _recentDelayIndex;

    private ushort _seqNr;
    private ushort _ackedSeqNr;
    private ushort _ackNr;
    private ushort _synSeq;
    private bool _confirmed;
    private uint _replyMicro;
    private uint _peerWindow;
    private uint _lastAdvertisedWindow;
    private bool _ackPending;

    private long _rtoDeadline = long.MaxValue;
    private long _connectDeadline = long.MaxValue;
    private long _zeroWindowProbeAt = long.MaxValue;
    private int _consecutiveTimeouts;
    private int _duplicateAcks;
    private ushort _lossSeqNr;
    private long _nextLossCutAt;

    private bool _closeRequested;
    private bool _finSent;
    private bool _finAcked;
    private ushort _finSeq;
    private int _finTransmissions;
    private bool _eofKnown;
    private ushort _eofSeq;
    private bool _eofDelivered;
    private bool _readerDetached;

    /// <summary>The socket refused a packet (its buffer was full): nothing more goes out until a short wake-up.</summary>
    private bool _stalled;

    /// <summary>How long a connection whose send the socket refused first waits before it tries again.</summary>
    private const long StallRetryMicros = 1_000;

    /// <summary>The wait after a refused send, doubled while sends keep failing (up to the retransmission timeout).</summary>
    private long _stallDelayMicros = StallRetryMicros;

    private UtpConnection(IUtpConnectionHost host, IUtpStream stream, UtpConnectionSettings settings, IPEndPoint remote,
        ushort receiveId, ushort sendId, bool incoming)
    {
        _host = host;
        _stream = stream;
        _settings = settings;
        Remote = remote;
        ReceiveId = receiveId;
        SendId = sendId;
        IsIncoming = incoming;
        _rtt = new RoundTripEstimator(settings.MinTimeoutMicros);
        _mtu = new MtuDiscovery(settings.MinPacketSize, settings.MaxPacketSize);
        _congestion = new LedbatController(settings.TargetDelayMicros, settings.GainBytesPerRtt,
            initialWindow: 2 * _mtu.ProbeSize, maxWindow: Math.Max(settings.MaxWindow, 2 * _mtu.ProbeSize));
        _pacer = new Pacer(burstBytes: 10 * settings.MaxPacketSize);
    }

    /// <summary>Held by whoever calls into the connection (the receive loop, the timer, the application's pump).</summary>
    public Lock Gate { get; } = new();

    /// <summary>The peer.</summary>
    public IPEndPoint Remote { get; }

    /// <summary>The connection id on packets we receive.</summary>
    public ushort ReceiveId { get; }

    /// <summary>The connection id on packets we send.</summary>
    public ushort SendId { get; }

    /// <summary>True when the peer opened the connection.</summary>
    public bool IsIncoming { get; }

    /// <summary>Where the connection is in its life.</summary>
    public UtpConnectionState State { get; private set; }

    /// <summary>Why the connection ended, when it did not end cleanly.</summary>
    public Exception? CloseError { get; private set; }

    /// <summary>Counters of this connection.</summary>
    public UtpConnectionStatistics Statistics;

    /// <summary>The congestion window in bytes.</summary>
    public int CongestionWindow => (int)_congestion.Window;

    /// <summary>The current packet size (the largest known to get through).</summary>
    public int PacketSize => _mtu.Floor;

    /// <summary>The largest packet size that might get through.</summary>
    public int PacketSizeCeiling => _mtu.Ceiling;

    /// <summary>Bytes sent and not yet acked.</summary>
    public int BytesInFlight { get; private set; }

    /// <summary>The smoothed round trip in microseconds (0 before the first sample).</summary>
    public long SmoothedRttMicros => _rtt.SmoothedMicros;

    /// <summary>The last queuing delay LEDBAT acted on, in microseconds.</summary>
    public long QueuingDelayMicros => _congestion.LastQueuingDelayMicros;

    /// <summary>The window the peer advertised last.</summary>
    public uint PeerWindow => _peerWindow;

    /// <summary>True once our FIN went out.</summary>
    public bool FinSent => _finSent;

    /// <summary>True once the peer's FIN arrived and everything before it was delivered.</summary>
    public bool EndOfStreamReceived => _eofDelivered;

    /// <summary>Creates the dialling side; call <see cref="Connect"/> to send the SYN.</summary>
    public static UtpConnection CreateOutgoing(IUtpConnectionHost host, IUtpStream stream, UtpConnectionSettings settings,
        IPEndPoint remote, ushort receiveId, ushort initialSequence) =>
        new(host, stream, settings, remote, receiveId, (ushort)(receiveId + 1), incoming: false)
        {
            _seqNr = initialSequence,
            _ackedSeqNr = (ushort)(initialSequence - 1),
            _lossSeqNr = (ushort)(initialSequence - 1),
        };

    /// <summary>
    /// Creates the accepting side from the peer's <paramref name="syn"/>; the STATE that answers it goes out with
    /// the next <see cref="FlushAck"/>.
    /// </summary>
    public static UtpConnection CreateIncoming(IUtpConnectionHost host, IUtpStream stream, UtpConnectionSettings settings,
        IPEndPoint remote, in UtpPacket syn, ushort initialSequence, long nowMicros)
    {
        var connection = new UtpConnection(host, stream, settings, remote, (ushort)(syn.ConnectionId + 1), syn.ConnectionId, incoming: true)
        {
            _seqNr = initialSequence,
            _ackedSeqNr = (ushort)(initialSequence - 1),
            _lossSeqNr = (ushort)(initialSequence - 1),
            _ackNr = syn.SequenceNumber,
            _synSeq = syn.SequenceNumber,
            _peerWindow = syn.WindowSize == 0 ? AssumedSynWindow : syn.WindowSize,
            State = UtpConnectionState.Connected,
            _ackPending = true,
        };
        connection.Statistics.PacketsReceived++;
        connection.TakeTimestamp(syn, nowMicros);
        return connection;
    }

    /// <summary>Sends the SYN (outgoing connections).</summary>
    public void Connect(long nowMicros)
    {
        if (IsIncoming || _seqNr != (ushort)(_ackedSeqNr + 1) || State != UtpConnectionState.SynSent)
            throw new InvalidOperationException("Connect is called once, on an outgoing connection");
        _synSeq = _seqNr;
        _connectDeadline = nowMicros + _settings.ConnectTimeoutMicros;
        SendControlPacket(UtpPacketType.Syn, nowMicros);
    }

    /// <summary>
    /// Closes gracefully: what the application wrote is sent, then our FIN; the connection ends once the FIN is
    /// acked (or its retransmissions are exhausted) and the peer has closed its side or the reader went away.
    /// </summary>
    public void Close(long nowMicros)
    {
        if (State == UtpConnectionState.Closed || _closeRequested) return;
        _closeRequested = true;
        if (State == UtpConnectionState.SynSent)
        {
            Finish(null);
            return;
        }
        TrySend(nowMicros);
    }

    /// <summary>The application stopped reading: received data is acked and dropped from now on.</summary>
    public void DetachReader(long nowMicros)
    {
        _readerDetached = true;
        MaybeFinishClosing(nowMicros);
    }

    /// <summary>Ends the connection at once: a RESET tells the peer, unsent and unacked data is dropped.</summary>
    public void Abort(Exception reason, long nowMicros)
    {
        if (State == UtpConnectionState.Closed) return;
        if (State == UtpConnectionState.Connected || _connectDeadline != long.MaxValue)
        {
            // libtorrent drops a packet whose seq_nr is beyond its reorder window before it looks at the type, so the
            // RESET carries our next sequence number, which is always inside it.
            Span<byte> reset = stackalloc byte[UtpPacket.HeaderLength];
            UtpPacket.WriteHeader(reset, UtpPacketType.Reset, 0, SendId, (uint)nowMicros, _replyMicro, 0, _seqNr, _ackNr);
            Send(reset);
        }
        Finish(reason);
    }

    /// <summary>
    /// The application's receive buffer shrank: when the window we advertised last was nearly closed and has
    /// opened well since, tell the peer at once rather than leaving it to probe.
    /// </summary>
    public void OnApplicationConsumed(long nowMicros)
    {
        if (State != UtpConnectionState.Connected) return;
        uint window = AdvertisedWindow;
        int opened = (int)Math.Min(int.MaxValue, (long)window - _lastAdvertisedWindow);
        if (_lastAdvertisedWindow < 4u * (uint)_settings.MaxPacketSize && opened >= _settings.ReceiveBufferSize / 4)
            SendControlPacket(UtpPacketType.State, nowMicros);
    }

    /// <summary>
    /// Sends the STATE owed for data received since the last packet we sent (called once per burst of incoming
    /// datagrams, so one ack answers many packets).
    /// </summary>
    public void FlushAck(long nowMicros)
    {
        if (_ackPending && State == UtpConnectionState.Connected) SendControlPacket(UtpPacketType.State, nowMicros);
    }

    /// <summary>The wake-up asked for through <see cref="IUtpConnectionHost.RequestWakeup"/> (pacing, a full socket) is due.</summary>
    public void OnWakeup(long nowMicros)
    {
        _stalled = false;
        TrySend(nowMicros);
    }

    /// <summary>
    /// The window we offer the peer: the receive buffer less what the application has not read and what waits out of
    /// order.
    /// </summary>
    private uint AdvertisedWindow
    {
        get
        {
            long used = (_readerDetached ? 0 : _stream.UnreadBytes) + _reorderBytes;
            return (uint)Math.Max(0, _settings.ReceiveBufferSize - used);
        }
    }

    /// <summary>The timeout for the next retransmission: the estimate, doubled for each timeout in a row.</summary>
    private long RetransmitTimeout
    {
        get
        {
            long timeout = _rtt.TimeoutMicros << Math.Min(_consecutiveTimeouts, 7);
            return Math.Min(timeout, MaxTimeoutMicros);
        }
    }

    private void Finish(Exception? error)
    {
        if (State == UtpConnectionState.Closed) return;
        State = UtpConnectionState.Closed;
        CloseError = error;
        _rtoDeadline = long.MaxValue;
        ReleaseOutgoing();
        ReleaseReorder();
        _stream.OnClosed(error);
        _host.OnConnectionClosed(this);
    }

    /// <summary>Ends the connection cleanly once both directions are done (or nobody reads the other one).</summary>
    private void MaybeFinishClosing(long nowMicros)
    {
        _ = nowMicros;
        if (State != UtpConnectionState.Connected || !_finAcked) return;
        if (_eofDelivered || _readerDetached) Finish(null);
    }

    private bool Send(ReadOnlySpan<byte> datagram)
    {
        if (!_host.SendDatagram(datagram, Remote))
        {
            Statistics.SendFailures++;
            return false;
        }
        CountSent(datagram.Length);
        return true;
    }

    /// <summary>A datagram of <paramref name="length"/> bytes left: counted, and the socket is known to take sends again.</summary>
    private void CountSent(int length)
    {
        _stallDelayMicros = StallRetryMicros;
        Statistics.PacketsSent++;
        Statistics.BytesSent += length;
    }

    private byte[] Rent(int size) => _host.Buffers.Rent(size);

    private void Return(byte[]? buffer) => _host.Buffers.Return(buffer);
}

/// <summary>Counters of one uTP connection (or, summed, of a multiplexer).</summary>
public struct UtpConnectionStatistics
{
    /// <summary>Datagrams sent (first transmissions, retransmissions and acks).</summary>
    public long PacketsSent;

    /// <summary>Datagram bytes sent, headers included.</summary>
    public long BytesSent;

    /// <summary>Valid datagrams received.</summary>
    public long PacketsReceived;

    /// <summary>Payload bytes delivered to the application in order.</summary>
    public long PayloadBytesReceived;

    /// <summary>Payload bytes sent for the first time.</summary>
    public long PayloadBytesSent;

    /// <summary>Packets sent again after a timeout.</summary>
    public long TimeoutRetransmissions;

    /// <summary>Packets sent again after duplicate or selective acks showed them lost.</summary>
    public long FastRetransmissions;

    /// <summary>Retransmission timer expiries.</summary>
    public long Timeouts;

    /// <summary>Received data packets that were already received (or too far ahead to keep).</summary>
    public long DuplicateOrDroppedPackets;

    /// <summary>Datagrams the socket could not send at once (a full kernel buffer): held back and sent again.</summary>
    public long SendFailures;

    /// <summary>Adds <paramref name="other"/> to these counters.</summary>
    public void Add(in UtpConnectionStatistics other)
    {
        PacketsSent += other.PacketsSent;
        BytesSent += other.BytesSent;
        PacketsReceived += other.PacketsReceived;
        PayloadBytesReceived += other.PayloadBytesReceived;
        PayloadBytesSent += other.PayloadBytesSent;
        TimeoutRetransmissions += other.TimeoutRetransmissions;
        FastRetransmissions += other.FastRetransmissions;
        Timeouts += other.Timeouts;
        DuplicateOrDroppedPackets += other.DuplicateOrDroppedPackets;
        SendFailures += other.SendFailures;
    }
}
