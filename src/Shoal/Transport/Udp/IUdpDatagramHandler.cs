using System.Net;

namespace Shoal.Transport.Udp;

/// <summary>
/// A protocol's receiving end on a shared <see cref="UdpSocket"/> (the DHT's KRPC, uTP): it gets the datagrams its
/// <see cref="DatagramClassifier"/> claimed, one at a time, never concurrently.
/// </summary>
public interface IUdpDatagramHandler
{
    /// <summary>
    /// One datagram from <paramref name="source"/> (IPv4 sources are plain IPv4, never IPv4-mapped IPv6). The span is
    /// valid only during the call: copy what you keep. Must not block: on a claim without a queue this runs on the
    /// socket's receive loop, and every protocol on the port waits for it.
    /// </summary>
    void OnDatagram(ReadOnlySpan<byte> datagram, IPEndPoint source);

    /// <summary>
    /// Nothing more is waiting right now (the kernel's receive queue, or the claim's own queue, is empty) after one or
    /// more datagrams: the moment to send the acks a burst earned (uTP) — one per connection, not one per datagram.
    /// </summary>
    void OnReceiveIdle();
}

/// <summary>
/// Whether a datagram belongs to a protocol, from its shape alone (its first bytes, its length): cheap, pure, never
/// throws. See <see cref="DatagramShapes"/>.
/// </summary>
public delegate bool DatagramClassifier(ReadOnlySpan<byte> datagram);
