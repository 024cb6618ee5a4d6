using System.Net;

namespace Shoal.Trackers.Server;

/// <summary>A peer the tracker hands out.</summary>
/// <param name="Address">Its address (IPv4 or IPv6, never IPv4-mapped).</param>
/// <param name="Port">Its TCP port.</param>
/// <param name="PeerId">Its 20-byte peer id (for the dictionary form).</param>
public readonly record struct SwarmPeer(IPAddress Address, int Port, ReadOnlyMemory<byte> PeerId);
