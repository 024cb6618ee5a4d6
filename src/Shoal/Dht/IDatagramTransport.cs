using System.Net;

namespace Shoal.Dht;

/// <summary>
/// Where a <see cref="DhtNode"/> sends and receives datagrams: a UDP socket (<see cref="UdpDatagramTransport"/>)
/// or a simulated network in tests.
/// </summary>
public interface IDatagramTransport : IDisposable
{
    /// <summary>The local endpoint (after binding).</summary>
    IPEndPoint LocalEndPoint { get; }

    /// <summary>Sends one datagram; best effort, never throws for network errors (UDP is lossy anyway).</summary>
    void Send(ReadOnlySpan<byte> datagram, IPEndPoint destination);

    /// <summary>
    /// Starts delivering received datagrams to <paramref name="receiver"/> until disposed. The span is valid only
    /// during the call.
    /// </summary>
    void Start(DatagramReceiver receiver);
}

/// <summary>Receives one datagram from <paramref name="source"/>.</summary>
public delegate void DatagramReceiver(ReadOnlySpan<byte> datagram, IPEndPoint source);
