using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Shoal.Tests.PortMapping;

/// <summary>
/// A gateway's port 5351 written for the tests, on an address of its own in 127.0.0.0/8: it answers NAT-PMP
/// (RFC 6886) and, unless <see cref="SpeaksPcp"/> is off, PCP MAP (RFC 6887) the way the RFCs say, keeps a mapping
/// table, and records every request. A NAT-PMP-only responder answers PCP with NAT-PMP's "unsupported version".
/// </summary>
internal sealed class NatPmpResponder : IAsyncDisposable
{
    private static int s_next;
    private readonly Socket _socket;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly uint _epochStart = 1000;

    public NatPmpResponder(bool speaksPcp, IPAddress externalAddress, byte? pcpError = null, bool silent = false)
    {
        SpeaksPcp = speaksPcp;
        ExternalAddress = externalAddress;
        PcpError = pcpError;
        Silent = silent;
        int n = Interlocked.Increment(ref s_next);
        // A loopback address per responder (and per test process) keeps port 5351 free for each.
        Address = IPAddress.Parse($"127.{53 + Environment.ProcessId % 100}.{n / 250 % 250}.{1 + n % 250}");
        _socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _socket.Bind(new IPEndPoint(Address, 5351));
        _loop = Task.Run(ServeAsync);
    }

    public IPAddress Address { get; }

    public bool SpeaksPcp { get; }

    public IPAddress ExternalAddress { get; }

    public byte? PcpError { get; }

    public bool Silent { get; }

    /// <summary>Every request received, in order: "PCP TCP 7000 lifetime 6", "NAT-PMP UDP 7001 lifetime 0", "NAT-PMP address".</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>Current mappings: (protocol, internal port) to external port.</summary>
    public ConcurrentDictionary<(string Protocol, int Port), int> Table { get; } = new();

    /// <summary>The nonce each PCP mapping was created with.</summary>
    public ConcurrentDictionary<(string Protocol, int Port), string> Nonces { get; } = new();

    private async Task ServeAsync()
    {
        var buffer = new byte[1100];
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), _stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            byte[] request = buffer[..received.ReceivedBytes];
            byte[]? answer = request.Length >= 2 && request[0] == 2 ? AnswerPcp(request) : AnswerNatPmp(request);
            if (answer is not null && !Silent) await _socket.SendToAsync(answer, SocketFlags.None, received.RemoteEndPoint);
        }
    }

    private byte[]? AnswerNatPmp(byte[] request)
    {
        if (request.Length < 2) return null;
        byte opcode = request[1];
        var answer = new byte[opcode == 0 ? 12 : 16];
        answer[1] = (byte)(128 + opcode);
        BinaryPrimitives.WriteUInt32BigEndian(answer.AsSpan(4), _epochStart);
        if (request[0] != 0)
        {
            BinaryPrimitives.WriteUInt16BigEndian(answer.AsSpan(2), 1); // unsupported version
            return answer[..8];
        }
        if (opcode == 0)
        {
            Requests.Enqueue("NAT-PMP address");
            ExternalAddress.TryWriteBytes(answer.AsSpan(8), out _);
            return answer;
        }
        string protocol = opcode == 1 ? "UDP" : "TCP";
        int internalPort = BinaryPrimitives.ReadUInt16BigEndian(request.AsSpan(4));
        int suggested = BinaryPrimitives.ReadUInt16BigEndian(request.AsSpan(6));
        uint lifetime = BinaryPrimitives.ReadUInt32BigEndian(request.AsSpan(8));
        Requests.Enqueue($"NAT-PMP {protocol} {internalPort} lifetime {lifetime}");
        // A gateway may grant another port than asked (here: 10000 above it), and keeps it across renewals.
        int external = lifetime == 0 ? 0 : Table.TryGetValue((protocol, internalPort), out int granted) ? granted : suggested + 10000;
        if (lifetime == 0) Table.TryRemove((protocol, internalPort), out _);
        else Table[(protocol, internalPort)] = external;
        BinaryPrimitives.WriteUInt16BigEndian(answer.AsSpan(8), (ushort)internalPort);
        BinaryPrimitives.WriteUInt16BigEndian(answer.AsSpan(10), (ushort)external);
        BinaryPrimitives.WriteUInt32BigEndian(answer.AsSpan(12), lifetime);
        return answer;
    }

    private byte[]? AnswerPcp(byte[] request)
    {
        if (request.Length >= 60)
        {
            Requests.Enqueue($"PCP {(request[36] == 6 ? "TCP" : "UDP")} {BinaryPrimitives.ReadUInt16BigEndian(request.AsSpan(40))} " +
                $"lifetime {BinaryPrimitives.ReadUInt32BigEndian(request.AsSpan(4))}");
        }
        if (!SpeaksPcp)
        {
            // RFC 6886 3.5: a NAT-PMP server answers any other version with its own "unsupported version" error.
            var unsupported = new byte[8];
            unsupported[1] = (byte)(128 + request[1]);
            BinaryPrimitives.WriteUInt16BigEndian(unsupported.AsSpan(2), 1);
            return unsupported;
        }
        if (request.Length < 60 || request[1] != 1) return null;
        uint lifetime = BinaryPrimitives.ReadUInt32BigEndian(request.AsSpan(4));
        string protocol = request[36] == 6 ? "TCP" : "UDP";
        int internalPort = BinaryPrimitives.ReadUInt16BigEndian(request.AsSpan(40));
        int suggested = BinaryPrimitives.ReadUInt16BigEndian(request.AsSpan(42));
        string nonce = Convert.ToHexString(request, 24, 12);
        var answer = new byte[60];
        answer[0] = 2;
        answer[1] = 0x81;
        answer[3] = PcpError ?? 0;
        BinaryPrimitives.WriteUInt32BigEndian(answer.AsSpan(4), lifetime);
        BinaryPrimitives.WriteUInt32BigEndian(answer.AsSpan(8), _epochStart);
        request.AsSpan(24, 36).CopyTo(answer.AsSpan(24)); // nonce, protocol, ports echoed
        if (PcpError is null)
        {
            if (lifetime == 0)
            {
                if (Nonces.TryGetValue((protocol, internalPort), out string? known) && known == nonce) Table.TryRemove((protocol, internalPort), out _);
            }
            else
            {
                Table[(protocol, internalPort)] = suggested;
                Nonces.TryAdd((protocol, internalPort), nonce);
            }
            ExternalAddress.MapToIPv6().TryWriteBytes(answer.AsSpan(44), out _);
        }
        return answer;
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _socket.Dispose();
        try { await _loop; } catch (Exception) { /* stopping */ }
        _stop.Dispose();
    }
}
