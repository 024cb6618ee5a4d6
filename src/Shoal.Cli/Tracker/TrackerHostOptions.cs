using System.Net;
using Shoal.Metainfo;

namespace Shoal.Cli.Tracker;

/// <summary>How <see cref="TrackerHost"/> serves.</summary>
internal sealed record TrackerHostOptions
{
    /// <summary>Address both listeners bind; <see cref="IPAddress.IPv6Any"/> serves IPv4 too.</summary>
    public IPAddress Bind { get; init; } = IPAddress.Any;

    /// <summary>HTTP port; 0 picks a free one.</summary>
    public int HttpPort { get; init; } = 6969;

    /// <summary>UDP port; 0 picks a free one.</summary>
    public int UdpPort { get; init; } = 6969;

    /// <summary>Only these torrents are served when set.</summary>
    public IReadOnlySet<InfoHash>? AllowList { get; init; }

    /// <summary>Requests per second allowed per address (burst: twice that, at least 10); 0 turns the limit off.</summary>
    public double MaxRequestsPerSecond { get; init; } = 50;

    /// <summary>
    /// How long an HTTP connection may take to send its request headers, counted from the connection (a client that
    /// sends nothing at all) or from the first byte; after it the connection is closed. Announces are one short line.
    /// </summary>
    public TimeSpan RequestHeadersTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>HTTP connections open at once from one address (an IPv6 /64); more are closed as they arrive.</summary>
    public int MaxHttpConnectionsPerAddress { get; init; } = 64;

    /// <summary>UDP receive loops (each handles packets one at a time).</summary>
    public int UdpReceiveLoops { get; init; } = 2;

    /// <summary>Registry policy; the allow list above is added to it.</summary>
    public Shoal.Trackers.Server.SwarmRegistryOptions Registry { get; init; } = new();
}
