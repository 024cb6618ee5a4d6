using System.Net;
using Shoal.Transport.Udp;

namespace Shoal.Transport.Utp;

/// <summary>
/// Where a <see cref="UtpMultiplexer"/> sends: its <see cref="UdpClaim"/> on the shared <see cref="UdpSocket"/>, or,
/// in tests, anything that carries datagrams (received ones come in through <see cref="IUdpDatagramHandler"/>).
/// </summary>
internal interface IUtpDatagramSender
{
    /// <summary>The local endpoint datagrams leave from.</summary>
    IPEndPoint LocalEndPoint { get; }

    /// <summary>Sends one datagram, best effort: false when it was dropped (uTP retransmits what is lost).</summary>
    bool Send(ReadOnlySpan<byte> datagram, IPEndPoint destination);

    /// <summary>
    /// Sends datagrams to one destination, in order, in as few system calls as the carrier allows; returns how many
    /// went (a prefix: the rest were not sent). By default one <see cref="Send"/> each.
    /// </summary>
    int SendBatch(ReadOnlySpan<OutgoingDatagram> datagrams, IPEndPoint destination)
    {
        int sent = 0;
        foreach (OutgoingDatagram datagram in datagrams)
        {
            if (!Send(datagram.Span, destination)) break;
            sent++;
        }
        return sent;
    }
}
