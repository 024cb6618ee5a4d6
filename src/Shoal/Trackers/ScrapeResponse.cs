using Shoal.Metainfo;

namespace Shoal.Trackers;

/// <summary>What a tracker answered to a scrape: counts per info-hash it knows (unknown ones are absent).</summary>
/// <param name="Files">Counts by info-hash.</param>
public sealed record ScrapeResponse(IReadOnlyDictionary<InfoHash, ScrapeEntry> Files);
