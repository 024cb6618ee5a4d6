using System.Net.Sockets;

namespace Shoal.Transport.Utp;

/// <summary>The receiving half: packets in, acks and selective acks, LEDBAT's samples, the reorder ring, FIN.</summary>
internal sealed partial class UtpConnection
{
    /// <summary>A packet that arrived ahead of a gap, held until the gap fills.</summary>
    private struct IncomingPacket
    {
        public byte[]? Buffer;
        public int Length;
        public bool Present;
        public bool Fin;
    }

    private readonly IncomingPacket[] _incoming = new IncomingPacket[ReorderCapacity];
    private int _reorderCount;
    private int _reorderBytes;
    private ushort _reorderHighest;

    private ref IncomingPacket Incoming(ushort sequence) => ref _incoming[sequence & (ReorderCapacity - 1)];

    /// <summary>
    /// Handles one packet addressed to this connection. Packets that ack what we never sent, RESETs that do, data
    /// too far ahead of what we have, and a second SYN are dropped without touching the state.
    /// </summary>
    public void Receive(in UtpPacket packet, long nowMicros)
    {
        if (State == UtpConnectionState.Closed) return;
        if (packet.Type == UtpPacketType.Syn)
        {
            // Our STATE was lost and the peer sends its SYN again: answer again. Any other SYN is not for us.
            if (IsIncoming && packet.SequenceNumber == _synSeq) SendControlPacket(UtpPacketType.State, nowMicros);
            return;
        }

        // The peer cannot ack a packet we never sent: a stray or spoofed packet. (Before the connection is
        // established, the only packet to ack is the SYN.)
        ushort lastSent = (ushort)(_seqNr - 1);
        if (SequenceNumber.IsAfter(packet.AckNumber, lastSent)) return;
        if (State == UtpConnectionState.SynSent && packet.AckNumber != _synSeq) return;
        if (SequenceNumber.Distance(packet.AckNumber, _ackedSeqNr) > OutgoingCapacity && SequenceNumber.IsBefore(packet.AckNumber, _ackedSeqNr))
            return; // acks something older than anything that could still be in flight

        if (packet.Type == UtpPacketType.Reset)
        {
            Finish(State == UtpConnectionState.SynSent
                ? new SocketException((int)SocketError.ConnectionRefused)
                : new IOException($"uTP connection reset by {Remote}"));
            return;
        }

        bool carriesData = packet.Type is UtpPacketType.Data or UtpPacketType.Fin;
        if (carriesData && State == UtpConnectionState.Connected
            && SequenceNumber.IsAfter(packet.SequenceNumber, _ackNr)
            && SequenceNumber.Distance(_ackNr, packet.SequenceNumber) >= ReorderCapacity)
        {
            // Beyond what the reorder ring can hold: a hopelessly broken link or an attempt to disturb the stream.
            Statistics.DuplicateOrDroppedPackets++;
            return;
        }

        Statistics.PacketsReceived++;
        TakeTimestamp(packet, nowMicros);
        _confirmed = true;
        // The peer is alive. As libtorrent, only silence counts towards declaring the connection dead: a receiver
        // that keeps answering our probes of its closed window with "still full" is slow, not gone.
        _consecutiveTimeouts = 0;

        if (State == UtpConnectionState.SynSent)
        {
            State = UtpConnectionState.Connected;
            _connectDeadline = long.MaxValue;
            _consecutiveTimeouts = 0;
            // A STATE carries the sequence number the peer will use next; a data packet the one it used.
            _ackNr = (ushort)(packet.SequenceNumber - 1);
            _stream.OnConnected();
        }
        _peerWindow = packet.WindowSize;

        ProcessAcks(packet, nowMicros);
        if (State == UtpConnectionState.Closed) return;
        if (carriesData) ReceiveData(packet);
        MaybeFinishClosing(nowMicros);
        if (State != UtpConnectionState.Connected) return;
        _pacer.Update(_congestion.Window, _rtt.SmoothedMicros, _congestion.InSlowStart);
        TrySend(nowMicros);
    }

    /// <summary>Records the peer's timestamp: the delay we echo back, and the drift of the two clocks.</summary>
    private void TakeTimestamp(in UtpPacket packet, long nowMicros)
    {
        if (packet.TimestampMicros == 0) return;
        _replyMicro = (uint)nowMicros - packet.TimestampMicros;
        uint previousBase = _theirDelay.IsInitialized ? _theirDelay.Base : 0;
        _theirDelay.Add(_replyMicro, nowMicros);
        int change = (int)(_theirDelay.Base - previousBase);
        // The peer's base delay fell: its clock is slower than ours, which makes our delay look as if it rose by the
        // same amount. Compensate, within reason (libtorrent does the same, up to 10 ms at a time).
        if (previousBase != 0 && change is < 0 and > -10_000) _ourDelay.AdjustBase(-change);
    }

    private void ProcessAcks(in UtpPacket packet, long nowMicros)
    {
        int inFlightBefore = BytesInFlight;
        int ackedBytes = 0;
        long minRtt = long.MaxValue;
        ushort ack = packet.AckNumber;

        if (SequenceNumber.IsAfter(ack, _ackedSeqNr))
        {
            for (ushort s = (ushort)(_ackedSeqNr + 1); s != (ushort)(ack + 1); s++) AckPacket(s, nowMicros, ref ackedBytes, ref minRtt);
            _ackedSeqNr = ack;
            _duplicateAcks = 0;
            _consecutiveTimeouts = 0;
            AdvanceAckedSequence();
            _rtoDeadline = _outstanding > 0 ? nowMicros + RetransmitTimeout : long.MaxValue;
        }
        else if (ack == _ackedSeqNr && packet.Type == UtpPacketType.State && _outstanding > 0)
        {
            _duplicateAcks++;
        }

        if (!packet.SelectiveAck.IsEmpty) ProcessSelectiveAck(ack, packet.SelectiveAck, nowMicros, ref ackedBytes, ref minRtt);

        // LEDBAT: the peer's measure of our packets' one-way delay, above the lowest it has ever been, is the queue
        // our traffic builds. The lowest of the last three samples filters out a single outlier; no one-way delay
        // can exceed the round trip.
        uint sample = packet.TimestampDifferenceMicros;
        if (sample != 0 && sample != int.MaxValue) // libutp has sent int.MaxValue for "no sample yet"
        {
            _recentDelays[_recentDelayIndex] = _ourDelay.Add(sample, nowMicros);
            _recentDelayIndex = (_recentDelayIndex + 1) % _recentDelays.Length;
            if (ackedBytes > 0 && inFlightBefore > 0)
            {
                long delay = Math.Min(Math.Min(_recentDelays[0], _recentDelays[1]), _recentDelays[2]);
                if (minRtt < delay) delay = minRtt;
                bool windowFull = inFlightBefore + _mtu.Floor > _congestion.Window;
                _congestion.OnAck(ackedBytes, inFlightBefore, delay, windowFull);
            }
        }

        if (_duplicateAcks >= DuplicateAckThreshold && _outstanding > 0)
        {
            _duplicateAcks = 0;
            ushort next = (ushort)(_ackedSeqNr + 1);
            ref OutgoingPacket slot = ref Slot(next);
            if (slot.Buffer is not null && !slot.FastResent)
            {
                OnPacketLost(next, nowMicros);
                Resend(next, nowMicros, fast: true);
            }
        }
    }

    /// <summary>
    /// Applies a selective ack: every packet it marks is acked; a packet not acked with at least three marked
    /// packets after it is taken as lost and sent again at once (each packet once, a few per ack).
    /// </summary>
    private void ProcessSelectiveAck(ushort ack, ReadOnlySpan<byte> mask, long nowMicros, ref int ackedBytes, ref long minRtt)
    {
        ushort first = (ushort)(ack + 2);
        if (!SequenceNumber.IsBefore(first, _seqNr)) return; // marks nothing we have sent
        int limit = Math.Min(mask.Length * 8, SequenceNumber.Distance(first, _seqNr));
        int highest = -1;
        for (int i = 0; i < limit; i++)
        {
            if ((mask[i >> 3] & (1 << (i & 7))) == 0) continue;
            highest = i;
            ushort s = (ushort)(first + i);
            if (SequenceNumber.IsAfter(s, _ackedSeqNr)) AckPacket(s, nowMicros, ref ackedBytes, ref minRtt);
        }
        AdvanceAckedSequence();
        if (highest < 0) return;

        // The packets before the third-highest marked one have three packets acked after them.
        int marked = 0;
        int boundary = -1;
        for (int i = highest; i >= 0; i--)
        {
            if ((mask[i >> 3] & (1 << (i & 7))) != 0 && ++marked == DuplicateAckThreshold)
            {
                boundary = i;
                break;
            }
        }
        if (boundary < 0) return;

        ushort end = (ushort)(first + boundary);
        int resent = 0;
        bool cut = false;
        for (ushort s = (ushort)(ack + 1); s != end && resent < FastResendsPerAck; s++)
        {
            if (!SequenceNumber.IsAfter(s, _ackedSeqNr)) continue;
            ref OutgoingPacket slot = ref Slot(s);
            if (slot.Buffer is null || slot.FastResent || slot.NeedsResend) continue;
            if (!cut && !_mtu.IsProbe(s))
            {
                OnPacketLost(s, nowMicros); // one loss event per ack, however many packets it shows lost
                cut = true;
            }
            Resend(s, nowMicros, fast: true);
            resent++;
        }
    }

    private void AckPacket(ushort sequence, long nowMicros, ref int ackedBytes, ref long minRtt)
    {
        ref OutgoingPacket slot = ref Slot(sequence);
        if (slot.Buffer is null) return;
        if (slot.NeedsResend)
        {
            slot.NeedsResend = false;
            _needResendCount--;
        }
        else
        {
            BytesInFlight -= slot.Payload;
        }
        ackedBytes += slot.Payload;
        if (slot.Transmissions == 1)
        {
            // Only a packet sent once gives an unambiguous round trip (Karn's rule, as BEP 29 asks).
            long rtt = nowMicros - slot.SentAt;
            _rtt.AddSample(rtt);
            minRtt = Math.Min(minRtt, rtt);
        }
        if (_mtu.IsProbe(sequence) && slot.Padding > 0)
        {
            _mtu.OnProbeAcked(slot.Length);
            _congestion.EnsureAtLeast(_mtu.Floor);
        }
        if (_finSent && sequence == _finSeq) _finAcked = true;
        Return(slot.Buffer);
        slot = default;
        _outstanding--;
    }

    /// <summary>Moves the cumulative ack over packets that selective acks already removed.</summary>
    private void AdvanceAckedSequence()
    {
        while ((ushort)(_ackedSeqNr + 1) != _seqNr && Slot((ushort)(_ackedSeqNr + 1)).Buffer is null) _ackedSeqNr++;
        if (SequenceNumber.IsAfter(_ackedSeqNr, _lossSeqNr)) _lossSeqNr = _ackedSeqNr;
    }

    /// <summary>
    /// A packet was lost: a lost MTU probe lowers the ceiling; any other loss halves the window, once per round
    /// trip (only packets sent after the last cut can cut again) and at most every 100 ms.
    /// </summary>
    private void OnPacketLost(ushort sequence, long nowMicros)
    {
        if (_mtu.IsProbe(sequence)) return; // too big, not congestion: resending it lowers the MTU ceiling instead
        if (!SequenceNumber.IsAfter(sequence, _lossSeqNr) || nowMicros < _nextLossCutAt) return;
        _congestion.OnLoss(_mtu.Floor);
        _lossSeqNr = (ushort)(_seqNr - 1);
        _nextLossCutAt = nowMicros + LossCutIntervalMicros;
    }

    /// <summary>Delivers data (and the FIN) in order, holding what arrives ahead of a gap.</summary>
    private void ReceiveData(in UtpPacket packet)
    {
        _ackPending = true;
        ushort sequence = packet.SequenceNumber;
        bool fin = packet.Type == UtpPacketType.Fin;
        if (!SequenceNumber.IsAfter(sequence, _ackNr) || (_eofKnown && SequenceNumber.IsAfter(sequence, _eofSeq)))
        {
            // Already delivered (our ack was lost, the ack we now owe repairs that), or past the peer's FIN.
            Statistics.DuplicateOrDroppedPackets++;
            return;
        }
        if (fin)
        {
            if (_eofKnown && sequence != _eofSeq) return; // a second, different FIN: ignore it
            _eofKnown = true;
            _eofSeq = sequence;
        }

        ReadOnlySpan<byte> payload = packet.Payload;
        if (!payload.IsEmpty && !HasRoomFor(payload.Length))
        {
            // The peer ignores our window. Drop; the STATE we owe repeats the window.
            Statistics.DuplicateOrDroppedPackets++;
            return;
        }

        if (sequence != (ushort)(_ackNr + 1))
        {
            ref IncomingPacket held = ref Incoming(sequence);
            if (held.Present)
            {
                Statistics.DuplicateOrDroppedPackets++;
                return;
            }
            byte[]? copy = null;
            if (!payload.IsEmpty)
            {
                copy = Rent(payload.Length);
                payload.CopyTo(copy);
            }
            held = new IncomingPacket { Buffer = copy, Length = payload.Length, Present = true, Fin = fin };
            if (_reorderCount == 0 || SequenceNumber.IsAfter(sequence, _reorderHighest)) _reorderHighest = sequence;
            _reorderCount++;
            _reorderBytes += payload.Length;
            return;
        }

        Deliver(sequence, payload, fin);
        while (_reorderCount > 0 && !_eofDelivered)
        {
            ushort next = (ushort)(_ackNr + 1);
            ref IncomingPacket held = ref Incoming(next);
            if (!held.Present) break;
            IncomingPacket taken = held;
            held = default;
            _reorderCount--;
            _reorderBytes -= taken.Length;
            Deliver(next, taken.Buffer.AsSpan(0, taken.Length), taken.Fin);
            Return(taken.Buffer);
        }
    }

    private void Deliver(ushort sequence, ReadOnlySpan<byte> payload, bool fin)
    {
        _ackNr = sequence;
        if (!payload.IsEmpty)
        {
            Statistics.PayloadBytesReceived += payload.Length;
            if (!_readerDetached) _stream.OnDataReceived(payload);
        }
        if (fin && !_eofDelivered)
        {
            _eofDelivered = true;
            ReleaseReorder(); // nothing after the FIN can be delivered
            _stream.OnEndOfStream();
        }
    }

    private bool HasRoomFor(int bytes) =>
        (_readerDetached ? 0 : _stream.UnreadBytes) + _reorderBytes + bytes <= _settings.ReceiveBufferSize;

    private void ReleaseReorder()
    {
        if (_reorderCount == 0) return;
        for (int i = 0; i < _incoming.Length; i++)
        {
            Return(_incoming[i].Buffer);
            _incoming[i] = default;
        }
        _reorderCount = 0;
        _reorderBytes = 0;
    }
}
