using Shoal.Http;

namespace Shoal.Trackers;

/// <summary>Makes the right client for a tracker URL: http and https share one <see cref="HttpClient"/>; udp gets a socket each.</summary>
public sealed class TrackerClientFactory
{
    private readonly HttpClient? _http;
    private readonly GuardedHttpClient? _guarded;
    private readonly HttpTrackerOptions? _httpOptions;
    private readonly UdpTrackerOptions? _udpOptions;
    private readonly TimeProvider _time;

    /// <summary>Creates the factory. <paramref name="http"/> is shared by every HTTP tracker client and stays the caller's.</summary>
    public TrackerClientFactory(HttpClient http, HttpTrackerOptions? httpOptions = null, UdpTrackerOptions? udpOptions = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(http);
        _http = http;
        _httpOptions = httpOptions;
        _udpOptions = udpOptions;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>A session's factory: its HTTP trackers are held to the SSRF mitigation (<paramref name="guarded"/> stays the caller's).</summary>
    internal TrackerClientFactory(GuardedHttpClient guarded, TimeProvider time)
    {
        _guarded = guarded;
        _time = time;
    }

    /// <summary>A client for <paramref name="url"/>.</summary>
    /// <exception cref="ArgumentException">The scheme is not http, https or udp, or a udp URL has no port.</exception>
    public ITrackerClient Create(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (!url.IsAbsoluteUri) throw new ArgumentException($"tracker URL '{url}' is not absolute", nameof(url));
        return url.Scheme switch
        {
            "http" or "https" => _guarded is not null
                ? new HttpTrackerClient(url, _guarded, _httpOptions, _time)
                : new HttpTrackerClient(url, _http!, _httpOptions, _time),
            "udp" => new UdpTrackerClient(url, _udpOptions, _time),
            _ => throw new ArgumentException($"tracker URL '{url}' has the unsupported scheme '{url.Scheme}' (http, https and udp are supported)", nameof(url)),
        };
    }
}
