using Shoal.Metainfo;

namespace Shoal.Discovery;

/// <summary>A parsed BEP 14 local service discovery announce.</summary>
/// <param name="Port">The sender's BitTorrent listen port.</param>
/// <param name="InfoHashes">The torrents announced (distinct, at least one).</param>
/// <param name="Cookie">The sender's cookie, used to recognise our own announces; null when absent.</param>
public sealed record LsdAnnounce(int Port, IReadOnlyList<InfoHash> InfoHashes, string? Cookie);
