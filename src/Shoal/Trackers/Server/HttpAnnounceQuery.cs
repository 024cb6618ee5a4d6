namespace Shoal.Trackers.Server;

/// <summary>A parsed HTTP announce: the announce itself and how the peer wants its answer.</summary>
/// <param name="Announce">The announce, with the connection's address.</param>
/// <param name="Compact">Answer with compact peers (BEP 23); true unless the request says compact=0.</param>
/// <param name="NoPeerId">Leave peer ids out of the dictionary form.</param>
public readonly record struct HttpAnnounceQuery(PeerAnnounce Announce, bool Compact, bool NoPeerId);
