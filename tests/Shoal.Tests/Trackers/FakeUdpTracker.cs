using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Shoal.Trackers;

namespace Shoal.Tests.Trackers;

/// <summary>
/// A scripted BEP 15 tracker on loopback: drops the first packets if told, can send a decoy with a wrong
/// transaction id before each real answer, or answer with an error.
/// </summary>
internal sealed class FakeUdpTracker : IAsyncDisposable
{
    public const long ConnectionId = 0x0102030405060708;
    private readonly Socket _socket;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _toDrop;

    public FakeUdpTracker(IPAddress address, int dropFirst = 0)
    {
        _toDrop = dropFirst;
        _socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        _socket.Bind(new IPEndPoint(address, 0));
        _loop = Task.Run(LoopAsync);
    }

    public Uri Url => new($"udp://{(EndPoint.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{EndPoint.Address}]" : EndPoint.Address)}:{EndPoint.Port}/announce");

    public IPEndPoint EndPoint => (IPEndPoint)_socket.LocalEndPoint!;

    public bool SendDecoy { get; init; }

    public bool Silent { get; init; }

    public string? ErrorMessage { get; init; }

    public int PacketsReceived;

    public int ConnectsReceived;

    public ConcurrentQueue<long> AnnounceConnectionIds { get; } = new();

    /// <summary>Peers put in every announce answer, already in compact form.</summary>
    public byte[] CompactPeers { get; init; } = [127, 0, 0, 1, 0x1A, 0xE1];

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _socket.Dispose();
        try
        {
            await _loop;
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }
    }

    private async Task LoopAsync()
    {
        byte[] buffer = new byte[2048];
        EndPoint any = new IPEndPoint(EndPoint.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveFromResult got = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, any, _stop.Token);
            Interlocked.Increment(ref PacketsReceived);
            byte[] packet = buffer.AsSpan(0, got.ReceivedBytes).ToArray();
            int action = BinaryPrimitives.ReadInt32BigEndian(packet.AsSpan(8));
            int tid = BinaryPrimitives.ReadInt32BigEndian(packet.AsSpan(12));
            if (action == UdpTrackerProtocol.ActionConnect) Interlocked.Increment(ref ConnectsReceived);
            if (Interlocked.Decrement(ref _toDrop) >= 0 || Silent) continue;

            if (SendDecoy) await _socket.SendToAsync(Answer(action, tid ^ 0x5555, packet, decoy: true), got.RemoteEndPoint);
            await _socket.SendToAsync(Answer(action, tid, packet, decoy: false), got.RemoteEndPoint);
        }
    }

    private byte[] Answer(int action, int tid, byte[] request, bool decoy)
    {
        if (ErrorMessage is { } message && action != UdpTrackerProtocol.ActionConnect)
        {
            byte[] error = new byte[8 + message.Length];
            BinaryPrimitives.WriteInt32BigEndian(error, UdpTrackerProtocol.ActionError);
            BinaryPrimitives.WriteInt32BigEndian(error.AsSpan(4), tid);
            System.Text.Encoding.ASCII.GetBytes(message, error.AsSpan(8));
            return error;
        }
        switch (action)
        {
            case UdpTrackerProtocol.ActionConnect:
            {
                byte[] answer = new byte[16];
                BinaryPrimitives.WriteInt32BigEndian(answer, 0);
                BinaryPrimitives.WriteInt32BigEndian(answer.AsSpan(4), tid);
                BinaryPrimitives.WriteInt64BigEndian(answer.AsSpan(8), decoy ? 666 : ConnectionId);
                return answer;
            }
            case UdpTrackerProtocol.ActionAnnounce:
            {
                if (!decoy) AnnounceConnectionIds.Enqueue(BinaryPrimitives.ReadInt64BigEndian(request));
                byte[] peers = decoy ? [9, 9, 9, 9, 0, 9] : CompactPeers;
                byte[] answer = new byte[20 + peers.Length];
                BinaryPrimitives.WriteInt32BigEndian(answer, 1);
                BinaryPrimitives.WriteInt32BigEndian(answer.AsSpan(4), tid);
                BinaryPrimitives.WriteInt32BigEndian(answer.AsSpan(8), 1800);
                BinaryPrimitives.WriteInt32BigEndian(answer.AsSpan(12), 2);
                BinaryPrimitives.WriteInt32BigEndian(answer.AsSpan(16), 3);
                peers.CopyTo(answer, 20);
                return answer;
            }
            default:
            {
                int count = (request.Length - 16) / 20;
                byte[] answer = new byte[8 + (12 * count)];
                BinaryPrimitives.WriteInt32BigEndian(answer, 2);
                BinaryPrimitives.WriteInt32BigEndian(answer.AsSpan(4), tid);
                for (int i = 0; i < count; i++)
                {
                    BinaryPrimitives.WriteInt32BigEndian(answer.AsSpan(8 + (12 * i)), 10 + i);
                    BinaryPrimitives.WriteInt32BigEndian(answer.AsSpan(12 + (12 * i)), 20 + i);
                    BinaryPrimitives.WriteInt32BigEndian(answer.AsSpan(16 + (12 * i)), 30 + i);
                }
                return answer;
            }
        }
    }
}
