namespace Shoal.Trackers;

/// <summary>Timing and limits of the UDP tracker client (BEP 15).</summary>
public sealed record UdpTrackerOptions
{
    /// <summary>
    /// The first wait for an answer; attempt n waits <c>RetransmitBase * 2^n</c>. BEP 15 says 15 s; tests use a
    /// few milliseconds.
    /// </summary>
    public TimeSpan RetransmitBase { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Retransmissions after the first send (BEP 15: n goes up to 8, 3,840 s).</summary>
    public int MaxRetransmissions { get; init; } = 8;

    /// <summary>How long a connection id is reused (BEP 15: one minute on the client).</summary>
    public TimeSpan ConnectionIdLifetime { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Receive buffer: a longer datagram is cut to this size, whose whole peers are still read.</summary>
    public int MaxResponseBytes { get; init; } = 16 * 1024;

    /// <summary>Most peers kept from one answer.</summary>
    public int MaxPeers { get; init; } = 2000;
}
