using System.Buffers;
using System.Net;

namespace Shoal.Transport.Utp;

/// <summary>Settings of a <see cref="UtpMultiplexer"/> and of every connection it carries.</summary>
public sealed record UtpOptions
{
    /// <summary>Clock for every timer and timestamp; simulations pass a virtual one.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Seed of the random source for connection ids and sequence numbers; null seeds it randomly.</summary>
    public int? RandomSeed { get; init; }

    /// <summary>Buffers of the connections' pipes; null uses <see cref="MemoryPool{T}.Shared"/>.</summary>
    public MemoryPool<byte>? Memory { get; init; }

    /// <summary>How long a dial waits for the answer to its SYN (libtorrent waits 3 s too).</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>LEDBAT's target queuing delay: above it the congestion window shrinks (BEP 29: 100 ms).</summary>
    public TimeSpan TargetDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Most bytes LEDBAT adds to the window per round trip at zero queuing delay (libtorrent: 3000).</summary>
    public int GainBytesPerRoundTrip { get; init; } = 3000;

    /// <summary>Largest congestion window, in bytes.</summary>
    public int MaxCongestionWindow { get; init; } = 4 * 1024 * 1024;

    /// <summary>
    /// Receive buffer per connection: bytes received but not yet read by the application, plus bytes held out of
    /// order, never exceed it; what is left is the window advertised to the peer (libtorrent: 1 MiB).
    /// </summary>
    public int ReceiveBufferSize { get; init; } = 1024 * 1024;

    /// <summary>Bytes the application may write ahead of what the connection has sent before its flush waits.</summary>
    public int SendBufferSize { get; init; } = 1024 * 1024;

    /// <summary>Lowest retransmission timeout (BEP 29: 500 ms).</summary>
    public TimeSpan MinRetransmitTimeout { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Retransmission timeouts in a row (the timeout doubling each time) after which a connection is declared dead.
    /// Six is about 30 s of silence with the 500 ms minimum.
    /// </summary>
    public int MaxConsecutiveTimeouts { get; init; } = 6;

    /// <summary>
    /// Largest datagram (uTP header and payload) that MTU discovery probes for: 1472 fits a 1500-byte Ethernet MTU
    /// after the IPv4 and UDP headers (IPv6 connections use 20 bytes less).
    /// </summary>
    public int MaxPacketSize { get; init; } = 1472;

    /// <summary>
    /// Datagram size every path carries: 548 is IPv4's 576-byte minimum MTU after its headers (IPv6 connections use
    /// IPv6's 1280-byte minimum instead). Packets start at the midpoint and MTU discovery moves from there.
    /// </summary>
    public int MinPacketSize { get; init; } = 548;

    /// <summary>Spread packets over the round trip instead of sending the window in bursts.</summary>
    public bool Pacing { get; init; } = true;

    /// <summary>Incoming connections waiting for <see cref="UtpMultiplexer.AcceptAsync"/>; SYNs beyond it are ignored.</summary>
    public int AcceptBacklog { get; init; } = 64;

    /// <summary>Most connections at once; SYNs beyond it are ignored and dials fail.</summary>
    public int MaxConnections { get; init; } = 1000;

    /// <summary>Accept incoming connections (otherwise every SYN is ignored and only dials work).</summary>
    public bool AcceptIncoming { get; init; } = true;

    /// <summary>
    /// Which unsolicited SYNs are answered (an IP filter; tests use it to play a NAT or a firewall): a SYN it refuses is
    /// ignored, as a firewall drops it, and the dialler times out. A SYN from an endpoint this multiplexer has an
    /// outgoing connection to (being dialled or open) is not unsolicited: it is the other half of a simultaneous open,
    /// which is how a BEP 55 hole punch meets, and is answered whatever the filter says. Null answers every SYN.
    /// Runs on the receive loop: must be cheap and must not block.
    /// </summary>
    public Func<IPEndPoint, bool>? AcceptFilter { get; init; }

    /// <summary>How often timeouts are checked.</summary>
    public TimeSpan TickInterval { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Where log lines go; null discards them.</summary>
    public Action<string>? Log { get; init; }

    /// <summary>Throws when a setting is out of range.</summary>
    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(Time);
        if (ConnectTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(ConnectTimeout));
        if (TargetDelay <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(TargetDelay));
        if (MinRetransmitTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(MinRetransmitTimeout));
        if (TickInterval <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(TickInterval));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(GainBytesPerRoundTrip);
        ArgumentOutOfRangeException.ThrowIfLessThan(MinPacketSize, 150);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxPacketSize, MinPacketSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxPacketSize, 65507);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxCongestionWindow, 4 * MaxPacketSize);
        ArgumentOutOfRangeException.ThrowIfLessThan(ReceiveBufferSize, 4 * MaxPacketSize);
        ArgumentOutOfRangeException.ThrowIfLessThan(SendBufferSize, 4096);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxConsecutiveTimeouts);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(AcceptBacklog);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxConnections);
    }
}
