namespace Shoal.Trackers;

/// <summary>A tracker's counts for one torrent (BEP 48).</summary>
/// <param name="Seeders">Peers with the whole torrent (<c>complete</c>).</param>
/// <param name="Completed">Downloads the tracker has seen finish (<c>downloaded</c>).</param>
/// <param name="Leechers">Peers still downloading (<c>incomplete</c>).</param>
public readonly record struct ScrapeEntry(long Seeders, long Completed, long Leechers);
