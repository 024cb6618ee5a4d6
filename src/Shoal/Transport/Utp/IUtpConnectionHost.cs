using System.Net;
using Shoal.Transport.Udp;

namespace Shoal.Transport.Utp;

/// <summary>
/// What a <see cref="UtpConnection"/> needs from the multiplexer that carries it (or from a simulation): a way out
/// for its datagrams, a wake-up call when pacing holds a packet back, and word that it has closed.
/// </summary>
internal interface IUtpConnectionHost
{
    /// <summary>
    /// Sends one datagram; false when the kernel had no room for it (or the network refused it): the connection
    /// holds its packets back for a moment instead of losing them.
    /// </summary>
    bool SendDatagram(ReadOnlySpan<byte> datagram, IPEndPoint remote);

    /// <summary>
    /// Sends the packets one send round produced, in order, in as few system calls as possible; returns how many went
    /// (a prefix: the kernel refused the next one, and the rest were not sent). By default one
    /// <see cref="SendDatagram"/> each.
    /// </summary>
    int SendDatagrams(ReadOnlySpan<OutgoingDatagram> datagrams, IPEndPoint remote)
    {
        int sent = 0;
        foreach (OutgoingDatagram datagram in datagrams)
        {
            if (!SendDatagram(datagram.Span, remote)) break;
            sent++;
        }
        return sent;
    }

    /// <summary>Buffers for the connection's packets (in flight, held out of order).</summary>
    PacketBufferPool Buffers { get; }

    /// <summary>Asks for <see cref="UtpConnection.OnWakeup"/> at (or soon after) <paramref name="atMicros"/>.</summary>
    void RequestWakeup(UtpConnection connection, long atMicros);

    /// <summary>The connection reached its end; it sends and accepts nothing more.</summary>
    void OnConnectionClosed(UtpConnection connection);
}

/// <summary>
/// The application's side of a <see cref="UtpConnection"/>: where received bytes go and where bytes to send come
/// from. Every call is made by the connection while its caller holds the connection's gate; implementations must
/// not block or call back into the connection.
/// </summary>
internal interface IUtpStream
{
    /// <summary>The handshake completed (outgoing connections only).</summary>
    void OnConnected();

    /// <summary>In-order bytes from the peer.</summary>
    void OnDataReceived(ReadOnlySpan<byte> data);

    /// <summary>The peer's FIN arrived and every byte before it was delivered.</summary>
    void OnEndOfStream();

    /// <summary>The connection ended: cleanly (null) or with the reason.</summary>
    void OnClosed(Exception? error);

    /// <summary>Bytes delivered by <see cref="OnDataReceived"/> that the application has not consumed yet.</summary>
    long UnreadBytes { get; }

    /// <summary>Bytes the application has written that wait to be sent.</summary>
    int AvailableToSend { get; }

    /// <summary>Copies up to <c>destination.Length</c> bytes waiting to be sent into it and consumes them.</summary>
    int TakeSendData(Span<byte> destination);
}
