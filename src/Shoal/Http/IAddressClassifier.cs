using System.Net;

namespace Shoal.Http;

/// <summary>
/// Says how far from this machine an endpoint is, for the SSRF mitigation of web seeds and trackers
/// (<see cref="Swarm.SessionOptions.SsrfMitigation"/>): which URLs a torrent may make us fetch, and which redirects are
/// followed. <see cref="AddressClassifier"/> holds the usual rules; an embedder may class its own ranges (a VPN's), and
/// tests class one loopback port as "global", since no test can run a server on a real global address. Must be pure,
/// cheap and thread-safe.
/// </summary>
public interface IAddressClassifier
{
    /// <summary>The scope of <paramref name="endPoint"/> (the port is given so that a rule may tell services apart).</summary>
    AddressScope Classify(IPEndPoint endPoint);
}
