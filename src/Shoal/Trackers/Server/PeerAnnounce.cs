using System.Net;
using Shoal.Metainfo;

namespace Shoal.Trackers.Server;

/// <summary>An announce as the tracker server received it (HTTP query or BEP 15 packet).</summary>
/// <param name="InfoHash">The torrent.</param>
/// <param name="PeerId">The peer's 20-byte id.</param>
/// <param name="Address">The peer's address: the connection's source, never a claim in the request.</param>
/// <param name="Port">The peer's TCP port.</param>
/// <param name="Uploaded">Bytes it uploaded.</param>
/// <param name="Downloaded">Bytes it downloaded.</param>
/// <param name="Left">Bytes it misses; 0 makes it a seeder.</param>
/// <param name="Event">started, completed, stopped or none.</param>
/// <param name="NumWant">Peers wanted; negative means the tracker's default.</param>
public readonly record struct PeerAnnounce(
    InfoHash InfoHash,
    ReadOnlyMemory<byte> PeerId,
    IPAddress Address,
    int Port,
    long Uploaded,
    long Downloaded,
    long Left,
    AnnounceEvent Event,
    int NumWant);
