using Shoal.Metainfo;

namespace Shoal.Trackers;

/// <summary>Talks to one tracker. Disposing releases its socket, if it has one.</summary>
public interface ITrackerClient : IDisposable
{
    /// <summary>The tracker's announce URL.</summary>
    Uri Url { get; }

    /// <summary>Announces and returns the tracker's answer.</summary>
    /// <exception cref="TrackerException">The tracker refused, failed or did not answer in time.</exception>
    /// <exception cref="TrackerFormatException">The answer is malformed.</exception>
    Task<AnnounceResponse> AnnounceAsync(AnnounceRequest request, CancellationToken cancellationToken);

    /// <summary>Asks for the counts of the given torrents (BEP 48, BEP 15 scrape).</summary>
    /// <exception cref="TrackerException">The tracker refused, failed, did not answer, or cannot scrape.</exception>
    /// <exception cref="TrackerFormatException">The answer is malformed.</exception>
    Task<ScrapeResponse> ScrapeAsync(IReadOnlyList<InfoHash> infoHashes, CancellationToken cancellationToken);
}
