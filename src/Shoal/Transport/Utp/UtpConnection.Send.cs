using Shoal.Transport.Udp;

namespace Shoal.Transport.Utp;

/// <summary>The sending half: packets out, the send ring, retransmissions and the timers.</summary>
internal sealed partial class UtpConnection
{
    /// <summary>A packet in flight, kept whole (header included) until acked: uTP cannot repacketize a resend.</summary>
    private struct OutgoingPacket
    {
        public byte[]? Buffer;
        public int Offset;
        public int Length;
        public int Padding;
        public int Payload;
        public long SentAt;
        public int Transmissions;
        public bool NeedsResend;
        public bool FastResent;
    }

    private readonly OutgoingPacket[] _outgoing = new OutgoingPacket[OutgoingCapacity];
    private int _outstanding;
    private int _needResendCount;
    private ushort _resendCursor;

    /// <summary>
    /// Most packets one send round hands to the host at once. A round is what the windows and the pacer let out
    /// after an ack or a write (the pacer's burst is 10 full packets); the batch leaves in one system call (and, on
    /// Linux, one trip through the IP stack) instead of one each.
    /// </summary>
    private const int SendBatchCapacity = 64;

    private readonly OutgoingDatagram[] _sendBatch = new OutgoingDatagram[SendBatchCapacity];
    private readonly ushort[] _sendBatchSequences = new ushort[SendBatchCapacity];
    private int _sendBatchCount;

    /// <summary>Inside <see cref="TrySend"/>: packets are batched, and sent when it returns.</summary>
    private bool _batching;

    private ref OutgoingPacket Slot(ushort sequence) => ref _outgoing[sequence & (OutgoingCapacity - 1)];

    /// <summary>
    /// Sends what the windows, the pacer and the application allow: first packets a timeout marked for resending,
    /// then new data, then our FIN once the application closed and everything it wrote is out.
    /// </summary>
    public void TrySend(long nowMicros)
    {
        if (State != UtpConnectionState.Connected || _stalled) return;
        if (_batching)
        {
            SendRound(nowMicros); // the outer call sends the batch
            return;
        }
        _batching = true;
        try
        {
            SendRound(nowMicros);
        }
        finally
        {
            _batching = false;
            FlushSendBatch(nowMicros);
        }
    }

    private void SendRound(long nowMicros)
    {
        if (_needResendCount > 0 && !ResendMarked(nowMicros)) return;
        while (!_finSent)
        {
            int available = _stream.AvailableToSend;
            if (available == 0)
            {
                if (_closeRequested) SendFin(nowMicros);
                return;
            }
            if (_outstanding >= OutgoingCapacity - 1) return; // the ring is full; one slot stays free for the FIN

            int payload = Math.Min(available, _mtu.Floor - UtpPacket.HeaderLength);
            // An MTU probe is a full packet padded up to the probe size (and only sent amid others, so that its loss
            // shows as a gap the next packets' acks reveal rather than as a timeout).
            bool probe = _mtu.WantsProbe && payload + UtpPacket.HeaderLength == _mtu.Floor
                && _mtu.ProbeSize - _mtu.Floor >= 2 && _congestion.Window > 3 * _mtu.Floor;
            long window = Math.Min((long)_congestion.Window, _peerWindow);
            if (BytesInFlight + payload > window)
            {
                if (BytesInFlight > 0) return; // acks will open the window
                if (_peerWindow == 0)
                {
                    // The receiver is full. Its window update may be lost, so probe with one packet after a timeout.
                    if (_zeroWindowProbeAt == long.MaxValue) _zeroWindowProbeAt = nowMicros + RetransmitTimeout;
                    return;
                }
                // Nothing in flight: one packet may always go (the window's floor is one packet), cut to what the
                // receiver can take.
                payload = (int)Math.Min(payload, _peerWindow);
                probe = false;
            }

            int size = probe ? _mtu.ProbeSize : payload + UtpPacket.HeaderLength;
            if (_settings.Pacing && !_pacer.TryTake(size, nowMicros))
            {
                _host.RequestWakeup(this, _pacer.ReadyAt(size, nowMicros));
                return;
            }
            if (!SendDataPacket(UtpPacketType.Data, payload, probe, nowMicros)) return;
        }
    }

    /// <summary>Checks the connect deadline and the retransmission and zero-window timers.</summary>
    public void Tick(long nowMicros)
    {
        switch (State)
        {
            case UtpConnectionState.Closed:
                return;
            case UtpConnectionState.SynSent:
                if (nowMicros >= _connectDeadline)
                {
                    Finish(new TimeoutException($"uTP connection to {Remote} timed out: no answer to the SYN"));
                }
                else if (nowMicros >= _rtoDeadline)
                {
                    Statistics.Timeouts++;
                    _consecutiveTimeouts++;
                    Resend(_synSeq, nowMicros, fast: false);
                    _rtoDeadline = nowMicros + RetransmitTimeout;
                }
                return;
        }

        if (nowMicros >= _zeroWindowProbeAt) SendZeroWindowProbe(nowMicros);
        if (nowMicros < _rtoDeadline) return;
        if (_outstanding == 0)
        {
            _rtoDeadline = long.MaxValue;
            return;
        }
        OnRetransmitTimeout(nowMicros);
    }

    private void OnRetransmitTimeout(long nowMicros)
    {
        Statistics.Timeouts++;
        ushort head = (ushort)(_ackedSeqNr + 1);
        if (_outstanding == 1 && _mtu.IsProbe(head))
        {
            // Only the probe was out and it vanished: it was too big, the path is not congested. (Resending it below
            // lowers the ceiling.)
        }
        else
        {
            _consecutiveTimeouts++;
            if (_consecutiveTimeouts > _settings.MaxConsecutiveTimeouts || (IsIncoming && !_confirmed))
            {
                Finish(new TimeoutException($"uTP connection to {Remote} timed out: {_consecutiveTimeouts} retransmissions unanswered"));
                return;
            }
            if (_finSent && head == _finSeq && _finTransmissions >= _settings.MaxFinTransmissions)
            {
                // Everything but our FIN arrived and nobody acks it: the peer has already dropped the connection.
                Finish(_eofDelivered || _readerDetached ? null : new IOException($"uTP connection to {Remote} closed without an answer to our FIN"));
                return;
            }
            _congestion.OnTimeout(_mtu.Floor, idle: false);
            _lossSeqNr = (ushort)(_seqNr - 1); // losses found among these packets must not cut the window again
            _mtu.Forget();
        }

        // Everything in flight is presumed lost; the window (now one packet) decides how fast it goes out again.
        for (ushort s = head; s != _seqNr; s++)
        {
            ref OutgoingPacket slot = ref Slot(s);
            if (slot.Buffer is null || slot.NeedsResend) continue;
            slot.NeedsResend = true;
            slot.FastResent = false;
            BytesInFlight -= slot.Payload;
            _needResendCount++;
        }
        _resendCursor = head;
        Resend(head, nowMicros, fast: false);
        _rtoDeadline = nowMicros + RetransmitTimeout;
        TrySend(nowMicros);
    }

    /// <summary>Resends packets marked by a timeout, in order, while the window allows; true when none is left.</summary>
    private bool ResendMarked(long nowMicros)
    {
        long window = Math.Min((long)_congestion.Window, _peerWindow);
        for (; _resendCursor != _seqNr && _needResendCount > 0; _resendCursor++)
        {
            ref OutgoingPacket slot = ref Slot(_resendCursor);
            if (slot.Buffer is null || !slot.NeedsResend) continue;
            if (BytesInFlight > 0 && BytesInFlight + slot.Payload > window) return false;
            Resend(_resendCursor, nowMicros, fast: false);
        }
        return _needResendCount == 0;
    }

    /// <summary>Sends the packet <paramref name="sequence"/> again with fresh timestamp, ack and window.</summary>
    private void Resend(ushort sequence, long nowMicros, bool fast)
    {
        ref OutgoingPacket slot = ref Slot(sequence);
        if (slot.Buffer is null) return;
        if (slot.NeedsResend)
        {
            slot.NeedsResend = false;
            _needResendCount--;
            BytesInFlight += slot.Payload;
        }
        slot.Transmissions++;
        slot.SentAt = nowMicros;
        if (fast)
        {
            slot.FastResent = true;
            Statistics.FastRetransmissions++;
        }
        else
        {
            Statistics.TimeoutRetransmissions++;
        }
        if (_finSent && sequence == _finSeq) _finTransmissions++;
        if (slot.Padding > 0)
        {
            // A resent probe goes without its padding: the data inside is a packet of a size known to get through.
            // Sending it again means it was lost, unless a timeout took everything in flight (then Forget ran).
            if (_mtu.IsProbe(sequence)) _mtu.OnProbeLost(slot.Length);
            slot.Buffer.AsSpan(0, UtpPacket.HeaderLength).CopyTo(slot.Buffer.AsSpan(slot.Padding));
            slot.Offset = slot.Padding;
            slot.Buffer[slot.Offset + 1] = 0;
            slot.Padding = 0;
        }
        Span<byte> packet = slot.Buffer.AsSpan(slot.Offset, slot.Length - slot.Offset);
        uint window = AdvertisedWindow;
        UtpPacket.RefreshHeader(packet, (uint)nowMicros, _replyMicro, window,
            State == UtpConnectionState.SynSent ? (ushort)0 : _ackNr);
        if (State == UtpConnectionState.Connected) NoteAckSent(window);
        if (_batching) Enqueue(sequence, slot.Buffer, slot.Offset, packet.Length, nowMicros);
        else if (!Send(packet)) Stall(sequence, nowMicros);
    }

    /// <summary>
    /// Adds a packet (kept in its send slot) to the round's batch; a full batch is sent first. False when that send was
    /// refused: the packet is then held back with the rest (see <see cref="Stall"/>).
    /// </summary>
    private bool Enqueue(ushort sequence, byte[] buffer, int offset, int length, long nowMicros)
    {
        if (_sendBatchCount == SendBatchCapacity && !FlushSendBatch(nowMicros))
        {
            Statistics.SendFailures++;
            Stall(sequence, nowMicros);
            return false;
        }
        _sendBatch[_sendBatchCount] = new OutgoingDatagram(buffer, offset, length);
        _sendBatchSequences[_sendBatchCount] = sequence;
        _sendBatchCount++;
        return true;
    }

    /// <summary>
    /// Sends the batched packets in one call. The ones the socket refused (a suffix) are held back exactly as a
    /// refused single send is (<see cref="Stall"/>); false when there were any.
    /// </summary>
    private bool FlushSendBatch(long nowMicros)
    {
        int count = _sendBatchCount;
        if (count == 0) return true;
        _sendBatchCount = 0;
        int sent = count == 1
            ? (Send(_sendBatch[0].Span) ? 1 : 0)
            : _host.SendDatagrams(_sendBatch.AsSpan(0, count), Remote);
        if (count > 1)
        {
            for (int i = 0; i < sent; i++) CountSent(_sendBatch[i].Length);
            Statistics.SendFailures += count - sent;
        }
        for (int i = sent; i < count; i++) Stall(_sendBatchSequences[i], nowMicros);
        Array.Clear(_sendBatch, 0, count); // no hold on buffers that go back to the pool
        return sent == count;
    }

    /// <summary>
    /// The socket had no room for a packet: it is marked for resending (and not counted in flight), and the
    /// connection pauses for a moment, as libtorrent's does when its socket would block, rather than letting the
    /// loss detection find out the slow way.
    /// </summary>
    private void Stall(ushort sequence, long nowMicros)
    {
        ref OutgoingPacket slot = ref Slot(sequence);
        if (!slot.NeedsResend)
        {
            slot.NeedsResend = true;
            _needResendCount++;
            BytesInFlight -= slot.Payload;
        }
        slot.Transmissions--; // it never left: its resend can still give a clean round-trip sample
        if (_needResendCount == 1 || SequenceNumber.IsBefore(sequence, _resendCursor)) _resendCursor = sequence;
        if (_stalled) return;
        _stalled = true;
        // A full buffer empties in a moment; a send that keeps failing (no route) is tried less and less often while
        // the retransmission timer decides whether the connection is dead.
        _host.RequestWakeup(this, nowMicros + _stallDelayMicros);
        _stallDelayMicros = Math.Min(_stallDelayMicros * 2, _rtt.TimeoutMicros);
    }

    /// <summary>
    /// The receiver's window stayed closed for a timeout: one byte goes anyway (as TCP's persist probe), so its ack
    /// brings a fresh window in case the update that opened it was lost. The probe is data like any other: it is
    /// retransmitted until the window lets it in.
    /// </summary>
    private void SendZeroWindowProbe(long nowMicros)
    {
        _zeroWindowProbeAt = long.MaxValue;
        if (BytesInFlight > 0 || _finSent || _stream.AvailableToSend == 0) return;
        SendDataPacket(UtpPacketType.Data, 1, probe: false, nowMicros);
    }

    /// <summary>Fills <paramref name="area"/> (at least 2 bytes) with chained padding extensions of up to 255 bytes each.</summary>
    private static void WritePadding(Span<byte> area)
    {
        area.Clear();
        while (!area.IsEmpty)
        {
            int block = Math.Min(area.Length, 2 + byte.MaxValue);
            if (area.Length - block == 1) block--; // never leave a single byte: a block needs two
            area[0] = area.Length > block ? UtpPacket.PaddingExtension : (byte)0;
            area[1] = (byte)(block - 2);
            area = area[block..];
        }
    }

    private void SendFin(long nowMicros)
    {
        if (_finSent) return;
        _finSeq = _seqNr;
        _finSent = true;
        _finTransmissions = 1;
        SendDataPacket(UtpPacketType.Fin, 0, probe: false, nowMicros);
    }

    /// <summary>Sends a packet that consumes a sequence number (data or FIN) and keeps it for retransmission.</summary>
    private bool SendDataPacket(UtpPacketType type, int payload, bool probe, long nowMicros)
    {
        int padding = probe ? _mtu.ProbeSize - UtpPacket.HeaderLength - payload : 0;
        int dataStart = UtpPacket.HeaderLength + padding;
        int length = dataStart + payload;
        byte[] buffer = Rent(length);
        if (payload > 0)
        {
            int copied = _stream.TakeSendData(buffer.AsSpan(dataStart, payload));
            if (copied <= 0)
            {
                Return(buffer);
                return false;
            }
            payload = copied;
            length = dataStart + copied;
        }
        if (padding > 0) WritePadding(buffer.AsSpan(UtpPacket.HeaderLength, padding));

        ushort sequence = _seqNr;
        uint window = AdvertisedWindow;
        UtpPacket.WriteHeader(buffer, type, padding > 0 ? UtpPacket.PaddingExtension : (byte)0, SendId, (uint)nowMicros,
            _replyMicro, window, sequence, _ackNr);
        Slot(sequence) = new OutgoingPacket
        {
            Buffer = buffer,
            Length = length,
            Padding = padding,
            Payload = payload,
            SentAt = nowMicros,
            Transmissions = 1,
        };
        _seqNr++;
        _outstanding++;
        BytesInFlight += payload;
        Statistics.PayloadBytesSent += payload;
        if (probe) _mtu.OnProbeSent(sequence);
        if (_rtoDeadline == long.MaxValue) _rtoDeadline = nowMicros + RetransmitTimeout;
        _zeroWindowProbeAt = long.MaxValue;
        NoteAckSent(window);
        if (_batching) return Enqueue(sequence, buffer, 0, length, nowMicros);
        if (Send(buffer.AsSpan(0, length))) return true;
        Stall(sequence, nowMicros);
        return false;
    }

    /// <summary>
    /// Sends a packet that carries no data: the SYN (which consumes a sequence number and is kept until acked) or a
    /// STATE (an ack, with a selective ack when packets wait out of order).
    /// </summary>
    private void SendControlPacket(UtpPacketType type, long nowMicros)
    {
        if (type == UtpPacketType.Syn)
        {
            byte[] syn = Rent(UtpPacket.HeaderLength);
            // The SYN carries the id we expect to receive on; every later packet carries the send id (BEP 29).
            UtpPacket.WriteHeader(syn, UtpPacketType.Syn, 0, ReceiveId, (uint)nowMicros, 0, AdvertisedWindow, _seqNr, 0);
            Slot(_seqNr) = new OutgoingPacket { Buffer = syn, Length = UtpPacket.HeaderLength, SentAt = nowMicros, Transmissions = 1 };
            _seqNr++;
            _outstanding++;
            _rtoDeadline = nowMicros + RetransmitTimeout;
            Send(syn.AsSpan(0, UtpPacket.HeaderLength));
            return;
        }

        Span<byte> packet = stackalloc byte[UtpPacket.HeaderLength + 2 + MaxSelectiveAckBytes];
        int length = UtpPacket.HeaderLength;
        byte extension = 0;
        if (_reorderCount > 0)
        {
            extension = UtpPacket.SelectiveAckExtension;
            length += WriteSelectiveAck(packet[UtpPacket.HeaderLength..]);
        }
        uint window = AdvertisedWindow;
        UtpPacket.WriteHeader(packet, type, extension, SendId, (uint)nowMicros, _replyMicro, window, _seqNr, _ackNr);
        // An ack the socket refused stays owed: the next flush sends it.
        if (!Send(packet[..length])) return;
        _ackPending = false;
        _lastAdvertisedWindow = window;
    }

    /// <summary>Every packet carries our ack_nr; only a STATE carries the selective ack, so one is still owed after data.</summary>
    private void NoteAckSent(uint window)
    {
        _lastAdvertisedWindow = window;
        if (_reorderCount == 0) _ackPending = false;
    }

    /// <summary>
    /// Writes the selective-ack extension (next-extension byte, length, bitmask) after the header; returns its size.
    /// Bit i of the mask (least significant bit first) stands for ack_nr + 2 + i.
    /// </summary>
    private int WriteSelectiveAck(Span<byte> destination)
    {
        ushort first = (ushort)(_ackNr + 2);
        int bits = SequenceNumber.Distance(first, _reorderHighest) + 1;
        int bytes = Math.Min(MaxSelectiveAckBytes, (bits + 31) / 32 * 4);
        destination[0] = 0;
        destination[1] = (byte)bytes;
        Span<byte> mask = destination.Slice(2, bytes);
        mask.Clear();
        for (int i = 0; i < bytes * 8; i++)
        {
            if (Incoming((ushort)(first + i)).Present) mask[i >> 3] |= (byte)(1 << (i & 7));
        }
        return 2 + bytes;
    }

    private void ReleaseOutgoing()
    {
        for (int i = 0; i < _outgoing.Length; i++)
        {
            Return(_outgoing[i].Buffer);
            _outgoing[i] = default;
        }
        _outstanding = 0;
        _needResendCount = 0;
        BytesInFlight = 0;
    }
}
