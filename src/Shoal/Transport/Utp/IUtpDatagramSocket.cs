using System.Net;

namespace Shoal.Transport.Utp;

/// <summary>
/// The UDP port a <see cref="UtpMultiplexer"/> runs on: <see cref="UdpDatagramSocket"/> (a socket of its own), or
/// the session's shared UDP socket, whose demultiplexer hands over the datagrams shaped like uTP
/// (<see cref="UtpPacket.LooksLikeUtp"/>) and keeps the others (KRPC) for the DHT.
/// </summary>
public interface IUtpDatagramSocket
{
    /// <summary>The bound endpoint.</summary>
    IPEndPoint LocalEndPoint { get; }

    /// <summary>Sends one datagram; best effort: never throws for network errors (uTP retransmits what is lost).</summary>
    void Send(ReadOnlySpan<byte> datagram, IPEndPoint destination);

    /// <summary>Starts delivering received datagrams to <paramref name="receiver"/>.</summary>
    void Start(IUtpDatagramReceiver receiver);
}

/// <summary>Receives the datagrams of an <see cref="IUtpDatagramSocket"/>, one at a time, from one thread.</summary>
public interface IUtpDatagramReceiver
{
    /// <summary>
    /// One datagram from <paramref name="source"/> (an IPv4 address, never IPv4-mapped IPv6). The span is valid only
    /// during the call.
    /// </summary>
    void OnDatagram(ReadOnlySpan<byte> datagram, IPEndPoint source);

    /// <summary>
    /// No more datagrams are queued right now. uTP sends the acks it owes here, one per connection for the whole
    /// burst it just read (as libtorrent does when its socket drains); a socket that cannot tell may call it after
    /// every datagram, at the price of more acks.
    /// </summary>
    void OnReceiveIdle();
}
