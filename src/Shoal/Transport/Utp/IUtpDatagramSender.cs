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
}
