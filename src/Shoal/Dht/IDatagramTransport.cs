using System.Net;

namespace Shoal.Dht;

/// <summary>
/// Where a <see cref="DhtNode"/> sends and receives datagrams: the KRPC share of a UDP socket
/// (<see cref="UdpDatagramTransport"/> over a <see cref="Transport.Udp.UdpSocket"/>) or a simulated network in tests.
/// </summary>
public interface IDatagramTransport : IAsyncDisposable
{
    /// <summary>The local endpoint (after binding).</summary>
    IPEndPoint LocalEndPoint { get; }

    /// <summary>Sends one datagram; best effort, never throws for network errors (UDP is lossy anyway).</summary>
    void Send(ReadOnlySpan<byte> datagram, IPEndPoint destination);

    /// <summary>
    /// Starts delivering received datagrams to <paramref name="receiver"/>, one at a time, until disposed. The span is
    /// valid only during the call.
    /// </summary>
    void Start(DatagramReceiver receiver);
}

/// <summary>Receives one datagram from <paramref name="source"/>.</summary>
public delegate void DatagramReceiver(ReadOnlySpan<byte> datagram, IPEndPoint source);
