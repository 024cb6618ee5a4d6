using System.Net;
using System.Net.Sockets;

namespace Shoal.Transport.Udp;

/// <summary>
/// The system calls a <see cref="UdpSocket"/> makes on its hot paths beyond what .NET's <see cref="Socket"/> offers:
/// several datagrams sent in one call, and every queued datagram taken in one call. A fast uTP connection moves tens
/// of thousands of datagrams a second; one system call (and, on loopback, one pass through the IP stack) per
/// datagram was most of its CPU. Implementations: <see cref="LinuxUdpBatchIo"/> (<c>sendmmsg</c> with UDP
/// segmentation offload, <c>recvmmsg</c> with UDP GRO) and <see cref="ManagedUdpBatchIo"/> (one datagram per call,
/// any OS); <see cref="UdpBatchIo.Create"/> picks one. Both are used only by the socket's own threads as described on
/// each member, never throw, and fall back rather than fail.
/// </summary>
internal interface IUdpBatchIo : IDisposable
{
    /// <summary>What the implementation does, for diagnostics ("sendmmsg+GSO, recvmmsg+GRO", "managed").</summary>
    string Description { get; }

    /// <summary>
    /// True when <see cref="Receive"/> takes every datagram itself: the socket then waits for readability on a receive
    /// thread of its own without reading (a datagram read any other way could be a GRO-coalesced run of several).
    /// False: an async loop reads the first datagram of a burst itself, <see cref="Receive"/> drains the rest.
    /// </summary>
    bool ReceivesEverything { get; }

    /// <summary>
    /// Sends <paramref name="datagrams"/>, in order, to <paramref name="destination"/> in as few system calls as the
    /// platform allows. Returns how many left (always a prefix): fewer than asked when the kernel refused one (a full
    /// buffer, an unreachable network) — the rest were not sent. Any thread, concurrently.
    /// </summary>
    int Send(ReadOnlySpan<OutgoingDatagram> datagrams, SocketAddress destination);

    /// <summary>
    /// Hands the datagrams already queued in the kernel to <paramref name="sink"/>, without waiting; returns how many.
    /// <paramref name="drained"/> is true when the queue was seen empty (time for the protocols' end-of-burst work).
    /// Only the socket's receive loop calls it.
    /// </summary>
    int Receive(IReceivedDatagramSink sink, out bool drained);
}

/// <summary>Where <see cref="IUdpBatchIo.Receive"/> puts each datagram.</summary>
internal interface IReceivedDatagramSink
{
    /// <summary>
    /// One datagram from <paramref name="source"/> (the native address; reused: copy what you keep). The span is
    /// valid only during the call.
    /// </summary>
    void OnReceived(ReadOnlySpan<byte> datagram, SocketAddress source);
}

/// <summary>Chooses the <see cref="IUdpBatchIo"/> for a socket.</summary>
internal static class UdpBatchIo
{
    /// <summary>Set (to anything) to keep every socket on <see cref="ManagedUdpBatchIo"/>: A/B measurements, a kernel that misbehaves.</summary>
    public const string DisableVariable = "SHOAL_NO_UDP_BATCH";

    /// <summary>Set (to anything) to keep UDP GRO off on the Linux path (A/B measurements).</summary>
    public const string DisableGroVariable = "SHOAL_NO_UDP_GRO";

    /// <summary>
    /// <see cref="LinuxUdpBatchIo"/> on 64-bit Linux (unless <see cref="DisableVariable"/> is set), else
    /// <see cref="ManagedUdpBatchIo"/>.
    /// </summary>
    public static IUdpBatchIo Create(Socket socket, Action<string>? log)
    {
        if (OperatingSystem.IsLinux() && Environment.Is64BitProcess && Environment.GetEnvironmentVariable(DisableVariable) is null)
        {
            return new LinuxUdpBatchIo(socket, log, gro: Environment.GetEnvironmentVariable(DisableGroVariable) is null);
        }
        return new ManagedUdpBatchIo(socket);
    }
}
