using System.Net;
using System.Net.Sockets;

namespace Shoal.Transport.Udp;

/// <summary>
/// The portable <see cref="IUdpBatchIo"/>: one <see cref="Socket.SendTo(ReadOnlySpan{byte}, SocketFlags, SocketAddress)"/>
/// per datagram, and a drain that reads one datagram at a time while <see cref="Socket.Available"/> says more wait.
/// What every OS can do; also what <see cref="LinuxUdpBatchIo"/> falls back to.
/// </summary>
internal sealed class ManagedUdpBatchIo(Socket socket) : IUdpBatchIo
{
    /// <summary>Largest datagram read (a UDP datagram cannot be longer).</summary>
    private const int MaxDatagram = 65536;

    private byte[]? _buffer; // the receive loop's alone
    private SocketAddress? _address;

    /// <inheritdoc />
    public string Description => "managed (one datagram per system call)";

    /// <inheritdoc />
    public bool ReceivesEverything => false;

    /// <inheritdoc />
    public int Send(ReadOnlySpan<OutgoingDatagram> datagrams, SocketAddress destination)
    {
        int sent = 0;
        foreach (OutgoingDatagram datagram in datagrams)
        {
            try
            {
                socket.SendTo(datagram.Span, SocketFlags.None, destination);
            }
            catch (SocketException)
            {
                break; // a full buffer, an unreachable network: the caller holds the rest back
            }
            catch (ObjectDisposedException)
            {
                break;
            }
            sent++;
        }
        return sent;
    }

    /// <inheritdoc />
    public int Receive(IReceivedDatagramSink sink, out bool drained)
    {
        _buffer ??= GC.AllocateUninitializedArray<byte>(MaxDatagram, pinned: true);
        _address ??= new SocketAddress(socket.AddressFamily);
        int count = 0;
        while (true)
        {
            int received;
            try
            {
                if (socket.Available == 0)
                {
                    drained = true;
                    return count;
                }
                received = socket.ReceiveFrom(_buffer, SocketFlags.None, _address);
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.WouldBlock)
            {
                drained = true;
                return count;
            }
            catch (SocketException)
            {
                // An ICMP error reported on some platforms: the socket stays usable; the loop's next wait goes on.
                drained = false;
                return count;
            }
            catch (ObjectDisposedException)
            {
                drained = true;
                return count;
            }
            sink.OnReceived(_buffer.AsSpan(0, received), _address);
            count++;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
    }
}
