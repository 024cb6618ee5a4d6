using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Shoal.Transport.Udp;

/// <summary>
/// The Linux <see cref="IUdpBatchIo"/> (64-bit): sends with one <c>sendmmsg</c> per batch, each message a run of
/// equal-sized datagrams sent as one UDP GSO super-datagram (<c>UDP_SEGMENT</c>: the kernel cuts it into the
/// datagrams, so the IP stack is crossed once per run rather than once per datagram), and receives with
/// <c>recvmmsg</c> on a socket with <c>UDP_GRO</c> on (the kernel hands runs of one flow's datagrams over
/// coalesced, with their size, and they are cut apart here).
/// </summary>
/// <remarks>
/// Everything is a hint the kernel may refuse, and a refusal falls back without losing a datagram: a kernel without
/// GSO (setsockopt probe at start, or a send the device cannot segment: EIO) sends runs as single datagrams from then
/// on; a run the path cannot take segmented (EINVAL, EMSGSIZE: a segment over the interface's MTU) goes again
/// unsegmented, that once; a kernel without <c>sendmmsg</c>/<c>recvmmsg</c> (ENOSYS) or a receive error turns that
/// direction over to <see cref="ManagedUdpBatchIo"/>. Buffers stay pinned for the length of a call only (GC handles);
/// the receive buffers are native memory the receive loop alone uses, freed by <see cref="Dispose"/> after the loop
/// ended. Together with Storage/LinuxFileIo.cs, the only unsafe code of the library (a message header needs
/// addresses).
/// </remarks>
internal sealed unsafe partial class LinuxUdpBatchIo : IUdpBatchIo
{
    private const int SolUdp = 17;
    private const int UdpSegment = 103;
    private const int UdpGro = 104;
    private const int MsgDontWait = 0x40;
    private const int MsgTrunc = 0x20;
    private const int EIntr = 4;
    private const int EIo = 5;
    private const int EAgain = 11;
    private const int EInval = 22;
    private const int ENoSys = 38;
    private const int EMsgSize = 90;
    private const int ENoProtoOpt = 92;
    private const int EOpNotSupp = 95;
    private const int ENoBufs = 105;

    /// <summary>Most datagrams in one GSO run: the kernel's UDP_MAX_SEGMENTS (64 before Linux 6.1, 128 since).</summary>
    internal const int MaxSegments = 64;

    /// <summary>Most bytes in one GSO run: it is one UDP datagram to the kernel, at most 65,507 bytes over IPv4.</summary>
    internal const int MaxRunBytes = 60 * 1024;

    /// <summary>Most messages (runs, or single datagrams) in one <c>sendmmsg</c>.</summary>
    private const int MaxMessagesPerSend = 32;

    /// <summary>Most datagrams in one <c>sendmmsg</c> (longer batches take several calls).</summary>
    private const int MaxDatagramsPerSend = 128;

    /// <summary>Messages per <c>recvmmsg</c>; each may hold a coalesced run.</summary>
    internal const int ReceiveSlots = 16;

    /// <summary>Bytes per receive slot: the largest UDP datagram, and the largest coalesced run.</summary>
    private const int SlotBytes = 65536;

    /// <summary>Room for a sockaddr_in6 (28 bytes) with margin.</summary>
    private const int AddressSpace = 32;

    /// <summary>CMSG_SPACE(sizeof(ushort)): one UDP_SEGMENT control message on a 64-bit system.</summary>
    private const int SegmentControlSpace = 24;

    /// <summary>Control bytes per received message (one UDP_GRO message needs CMSG_SPACE(sizeof(int)) = 24).</summary>
    private const int ReceiveControlSpace = 64;

    private readonly Socket _socket;
    private readonly SafeSocketHandle _handle;
    private readonly ManagedUdpBatchIo _fallback;
    private readonly Action<string>? _log;
    private volatile bool _gso;
    private volatile bool _batchSends = true;
    private volatile bool _batchReceives = true;
    private readonly bool _gro;

    // The receive loop's alone; allocated at its first use, freed by Dispose.
    private byte* _receiveMemory;
    private SocketAddress? _receivedFrom;

    /// <summary>Sets <paramref name="socket"/> up for batches: probes GSO, turns GRO on.</summary>
    public LinuxUdpBatchIo(Socket socket, Action<string>? log, bool gro = true)
    {
        _socket = socket;
        _handle = socket.SafeHandle;
        _log = log;
        _fallback = new ManagedUdpBatchIo(socket);
        try
        {
            // Setting the socket's default segment size to 0 (none) succeeds exactly on kernels that know UDP_SEGMENT.
            _gso = TrySetOption(UdpSegment, 0);
            _gro = gro && TrySetOption(UdpGro, 1);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            _gso = false;
            _gro = false;
            _batchSends = false;
            _batchReceives = false;
        }
    }

    /// <inheritdoc />
    public string Description => (_batchSends ? _gso ? "sendmmsg+GSO" : "sendmmsg" : "sendto") + ", "
        + (_batchReceives ? _gro ? "recvmmsg+GRO" : "recvmmsg" : "recvfrom");

    /// <summary>True while runs of equal-sized datagrams are sent segmented by the kernel.</summary>
    public bool SegmentsSends => _gso && _batchSends;

    /// <summary>True when the kernel coalesces received runs (UDP_GRO was accepted).</summary>
    public bool CoalescesReceives => _gro;

    /// <inheritdoc />
    public bool ReceivesEverything => true;

    /// <inheritdoc />
    public int Send(ReadOnlySpan<OutgoingDatagram> datagrams, SocketAddress destination)
    {
        int total = 0;
        bool segment = _gso;
        while (total < datagrams.Length)
        {
            if (!_batchSends) return total + _fallback.Send(datagrams[total..], destination);
            int sent = SendOnce(datagrams[total..], destination, segment, out SendOutcome outcome);
            total += sent;
            switch (outcome)
            {
                case SendOutcome.Refused:
                    return total;
                case SendOutcome.SegmentationRefused:
                    segment = false; // this batch again without GSO (the socket keeps it unless the kernel lacks it)
                    break;
                case SendOutcome.Unsupported:
                    _batchSends = false;
                    _log?.Invoke("UDP: sendmmsg is not available; sending one datagram per call");
                    break;
            }
        }
        return total;
    }

    /// <inheritdoc />
    public int Receive(IReceivedDatagramSink sink, out bool drained)
    {
        if (!_batchReceives) return _fallback.Receive(sink, out drained);
        bool added = false;
        try
        {
            _handle.DangerousAddRef(ref added);
            return ReceiveOnce((int)_handle.DangerousGetHandle(), sink, out drained);
        }
        catch (ObjectDisposedException)
        {
            drained = true;
            return 0;
        }
        finally
        {
            if (added) _handle.DangerousRelease();
        }
    }

    /// <summary>Frees the receive buffers; only once the receive loop has ended.</summary>
    public void Dispose()
    {
        if (_receiveMemory is null) return;
        NativeMemory.Free(_receiveMemory);
        _receiveMemory = null;
    }

    private enum SendOutcome
    {
        /// <summary>As many as could go went (the count may still be short of the batch: call again).</summary>
        Sent,

        /// <summary>The kernel refused (a full buffer, an unreachable network): stop, the rest is the caller's.</summary>
        Refused,

        /// <summary>A segmented run was refused for its segmentation: send again without.</summary>
        SegmentationRefused,

        /// <summary>No sendmmsg: use the fallback.</summary>
        Unsupported,
    }

    private int SendOnce(ReadOnlySpan<OutgoingDatagram> datagrams, SocketAddress destination, bool segment, out SendOutcome outcome)
    {
        int count = Math.Min(datagrams.Length, MaxDatagramsPerSend);
        MultiMessageHeader* messages = stackalloc MultiMessageHeader[MaxMessagesPerSend];
        IoVector* vectors = stackalloc IoVector[MaxDatagramsPerSend];
        byte* control = stackalloc byte[MaxMessagesPerSend * SegmentControlSpace];
        byte* name = stackalloc byte[AddressSpace];
        int* runs = stackalloc int[MaxMessagesPerSend];
        Span<GCHandle> pins = stackalloc GCHandle[MaxDatagramsPerSend];
        destination.Buffer.Span[..destination.Size].CopyTo(new Span<byte>(name, AddressSpace));

        int pinned = 0;
        int messageCount = 0;
        bool anySegmented = false;
        bool added = false;
        try
        {
            while (pinned < count && messageCount < MaxMessagesPerSend)
            {
                int first = pinned;
                int size = datagrams[first].Length;
                int run = 1;
                if (segment && size > 0)
                {
                    // A run: datagrams of one size, the last one possibly shorter (what GSO cuts a buffer into).
                    int bytes = size;
                    while (first + run < count && run < MaxSegments)
                    {
                        int next = datagrams[first + run].Length;
                        if (next > size || next == 0 || bytes + next > MaxRunBytes) break;
                        run++;
                        bytes += next;
                        if (next < size) break;
                    }
                }
                for (int i = first; i < first + run; i++)
                {
                    OutgoingDatagram datagram = datagrams[i];
                    pins[i] = GCHandle.Alloc(datagram.Buffer, GCHandleType.Pinned);
                    pinned++;
                    vectors[i].Base = (byte*)pins[i].AddrOfPinnedObject() + datagram.Offset;
                    vectors[i].Length = (nuint)datagram.Length;
                }
                ref MessageHeader header = ref messages[messageCount].Header;
                header.Name = name;
                header.NameLength = (uint)destination.Size;
                header.Vectors = vectors + first;
                header.VectorCount = (nuint)run;
                header.Flags = 0;
                if (run > 1)
                {
                    byte* message = control + messageCount * SegmentControlSpace;
                    var controlHeader = (ControlMessageHeader*)message;
                    controlHeader->Length = (nuint)(sizeof(ControlMessageHeader) + sizeof(ushort));
                    controlHeader->Level = SolUdp;
                    controlHeader->Type = UdpSegment;
                    *(ushort*)(message + sizeof(ControlMessageHeader)) = (ushort)size;
                    header.Control = message;
                    header.ControlLength = SegmentControlSpace;
                    anySegmented = true;
                }
                else
                {
                    header.Control = null;
                    header.ControlLength = 0;
                }
                messages[messageCount].Length = 0;
                runs[messageCount++] = run;
            }

            _handle.DangerousAddRef(ref added);
            int fd = (int)_handle.DangerousGetHandle();
            int result;
            int error;
            do
            {
                result = SendMultipleMessages(fd, messages, (uint)messageCount, 0);
                error = result < 0 ? Marshal.GetLastPInvokeError() : 0;
            }
            while (result < 0 && error == EIntr);

            if (result >= 0)
            {
                int sent = 0;
                for (int m = 0; m < result; m++) sent += runs[m];
                // Fewer messages than given: the next one failed (its error is not reported): treat it as refused.
                outcome = result < messageCount ? SendOutcome.Refused : SendOutcome.Sent;
                return sent;
            }
            outcome = error switch
            {
                ENoSys => SendOutcome.Unsupported,
                EIo or EOpNotSupp or ENoProtoOpt when anySegmented => DisableSegmentation(error),
                EInval or EMsgSize when anySegmented => SendOutcome.SegmentationRefused,
                _ => SendOutcome.Refused, // EAGAIN, ENOBUFS, ENETUNREACH...: what a single send would have lost
            };
            return 0;
        }
        catch (ObjectDisposedException)
        {
            outcome = SendOutcome.Refused;
            return 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            outcome = SendOutcome.Unsupported;
            return 0;
        }
        finally
        {
            if (added) _handle.DangerousRelease();
            for (int i = 0; i < pinned; i++) pins[i].Free();
        }
    }

    private SendOutcome DisableSegmentation(int error)
    {
        if (_gso)
        {
            _gso = false;
            _log?.Invoke($"UDP: the kernel refused segmentation offload (errno {error}); sending datagrams one by one");
        }
        return SendOutcome.SegmentationRefused;
    }

    private int ReceiveOnce(int fd, IReceivedDatagramSink sink, out bool drained)
    {
        if (_receiveMemory is null)
        {
            // Virtual memory mostly: only the pages datagrams land in become resident.
            nuint bytes = (nuint)(ReceiveSlots * (sizeof(MultiMessageHeader) + sizeof(IoVector) + AddressSpace + ReceiveControlSpace + SlotBytes));
            _receiveMemory = (byte*)NativeMemory.Alloc(bytes);
        }
        var messages = (MultiMessageHeader*)_receiveMemory;
        var vectors = (IoVector*)(messages + ReceiveSlots);
        byte* names = (byte*)(vectors + ReceiveSlots);
        byte* controls = names + ReceiveSlots * AddressSpace;
        byte* slots = controls + ReceiveSlots * ReceiveControlSpace;
        for (int i = 0; i < ReceiveSlots; i++)
        {
            vectors[i].Base = slots + (nint)i * SlotBytes;
            vectors[i].Length = SlotBytes;
            ref MessageHeader header = ref messages[i].Header;
            header.Name = names + i * AddressSpace;
            header.NameLength = AddressSpace;
            header.Vectors = vectors + i;
            header.VectorCount = 1;
            header.Control = controls + i * ReceiveControlSpace;
            header.ControlLength = ReceiveControlSpace;
            header.Flags = 0;
            messages[i].Length = 0;
        }

        int result;
        int error;
        do
        {
            result = ReceiveMultipleMessages(fd, messages, ReceiveSlots, MsgDontWait, 0);
            error = result < 0 ? Marshal.GetLastPInvokeError() : 0;
        }
        while (result < 0 && error == EIntr);
        if (result < 0)
        {
            drained = true;
            if (error != EAgain)
            {
                // Nothing else should fail here; whatever did, the portable path takes over (without coalescing, which
                // only this path can undo).
                _batchReceives = false;
                if (_gro) TrySetOption(UdpGro, 0);
                _log?.Invoke($"UDP: recvmmsg failed (errno {error}); receiving one datagram per call");
            }
            return 0;
        }

        _receivedFrom ??= new SocketAddress(_socket.AddressFamily);
        int count = 0;
        for (int i = 0; i < result; i++)
        {
            ref MessageHeader header = ref messages[i].Header;
            if ((header.Flags & MsgTrunc) != 0) continue; // longer than any UDP datagram: cannot happen
            int length = (int)messages[i].Length;
            int nameLength = (int)Math.Min(header.NameLength, (uint)_receivedFrom.Buffer.Length);
            new ReadOnlySpan<byte>(header.Name, nameLength).CopyTo(_receivedFrom.Buffer.Span);
            _receivedFrom.Size = nameLength;
            byte* data = slots + (nint)i * SlotBytes;
            int segment = SegmentSize(header, length);
            if (length == 0)
            {
                sink.OnReceived([], _receivedFrom);
                count++;
                continue;
            }
            for (int offset = 0; offset < length; offset += segment)
            {
                sink.OnReceived(new ReadOnlySpan<byte>(data + offset, Math.Min(segment, length - offset)), _receivedFrom);
                count++;
            }
        }
        drained = result < ReceiveSlots;
        return count;
    }

    /// <summary>The size of the datagrams a coalesced message holds (its UDP_GRO control message), else its length.</summary>
    private static int SegmentSize(in MessageHeader header, int length)
    {
        byte* message = header.Control;
        byte* end = message + header.ControlLength;
        while (message + sizeof(ControlMessageHeader) <= end)
        {
            var controlHeader = (ControlMessageHeader*)message;
            if (controlHeader->Length < (nuint)sizeof(ControlMessageHeader)) break;
            if (controlHeader->Level == SolUdp && controlHeader->Type == UdpGro
                && controlHeader->Length >= (nuint)(sizeof(ControlMessageHeader) + sizeof(int)))
            {
                int size = *(int*)(message + sizeof(ControlMessageHeader));
                return size > 0 ? size : Math.Max(1, length);
            }
            message += (controlHeader->Length + (nuint)(sizeof(nuint) - 1)) & ~(nuint)(sizeof(nuint) - 1);
        }
        return Math.Max(1, length);
    }

    private bool TrySetOption(int name, int value)
    {
        bool added = false;
        try
        {
            _handle.DangerousAddRef(ref added);
            return SetSocketOption((int)_handle.DangerousGetHandle(), SolUdp, name, &value, sizeof(int)) == 0;
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
        finally
        {
            if (added) _handle.DangerousRelease();
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct IoVector
    {
        public byte* Base;
        public nuint Length;
    }

    /// <summary>struct msghdr (64-bit Linux).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct MessageHeader
    {
        public byte* Name;
        public uint NameLength;
        public IoVector* Vectors;
        public nuint VectorCount;
        public byte* Control;
        public nuint ControlLength;
        public int Flags;
    }

    /// <summary>struct mmsghdr.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct MultiMessageHeader
    {
        public MessageHeader Header;
        public uint Length;
    }

    /// <summary>struct cmsghdr (64-bit Linux).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct ControlMessageHeader
    {
        public nuint Length;
        public int Level;
        public int Type;
    }

    [LibraryImport("libc", EntryPoint = "sendmmsg", SetLastError = true)]
    private static partial int SendMultipleMessages(int fd, MultiMessageHeader* messages, uint count, int flags);

    [LibraryImport("libc", EntryPoint = "recvmmsg", SetLastError = true)]
    private static partial int ReceiveMultipleMessages(int fd, MultiMessageHeader* messages, uint count, int flags, nint timeout);

    [LibraryImport("libc", EntryPoint = "setsockopt", SetLastError = true)]
    private static partial int SetSocketOption(int fd, int level, int name, int* value, uint length);
}
