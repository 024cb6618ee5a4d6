using System.Net.Sockets;

namespace Shoal.Transport.Utp;

/// <summary><see cref="UtpOptions"/> as one connection uses them: times in microseconds, sizes for its address family.</summary>
internal sealed class UtpConnectionSettings
{
    /// <summary>IPv6 headers are 20 bytes longer than IPv4's.</summary>
    private const int Ipv6ExtraHeader = 20;

    /// <summary>IPv6's minimum MTU (1280) less the IPv6 and UDP headers.</summary>
    private const int Ipv6MinPacketSize = 1280 - 48;

    public long TargetDelayMicros { get; init; } = 100_000;
    public long MinTimeoutMicros { get; init; } = 500_000;
    public long ConnectTimeoutMicros { get; init; } = 3_000_000;
    public int GainBytesPerRtt { get; init; } = 3000;
    public int MaxWindow { get; init; } = 4 * 1024 * 1024;
    public int ReceiveBufferSize { get; init; } = 1024 * 1024;
    public int MinPacketSize { get; init; } = 548;
    public int MaxPacketSize { get; init; } = 1472;
    public int MaxConsecutiveTimeouts { get; init; } = 6;

    /// <summary>Transmissions of our FIN before we stop waiting for its ack.</summary>
    public int MaxFinTransmissions { get; init; } = 3;

    public bool Pacing { get; init; } = true;

    public static UtpConnectionSettings From(UtpOptions options, AddressFamily family)
    {
        int max = options.MaxPacketSize;
        int min = options.MinPacketSize;
        if (family == AddressFamily.InterNetworkV6)
        {
            max = Math.Max(min, max - Ipv6ExtraHeader);
            min = Math.Min(max, Math.Max(min, Ipv6MinPacketSize));
        }
        return new UtpConnectionSettings
        {
            TargetDelayMicros = ToMicros(options.TargetDelay),
            MinTimeoutMicros = ToMicros(options.MinRetransmitTimeout),
            ConnectTimeoutMicros = ToMicros(options.ConnectTimeout),
            GainBytesPerRtt = options.GainBytesPerRoundTrip,
            MaxWindow = options.MaxCongestionWindow,
            ReceiveBufferSize = options.ReceiveBufferSize,
            MinPacketSize = min,
            MaxPacketSize = max,
            MaxConsecutiveTimeouts = options.MaxConsecutiveTimeouts,
            Pacing = options.Pacing,
        };
    }

    public static long ToMicros(TimeSpan time) => time.Ticks / (TimeSpan.TicksPerMillisecond / 1000);
}
