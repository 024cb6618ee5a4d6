using System.Net;

namespace Shoal.Discovery;

/// <summary>A contact in a PEX message: the peer's listen endpoint and its flags.</summary>
/// <param name="EndPoint">Address and listen port (IPv4-mapped IPv6 addresses are sent as IPv4).</param>
/// <param name="Flags">What we know about the peer.</param>
public readonly record struct PexPeer(IPEndPoint EndPoint, PexFlags Flags);
