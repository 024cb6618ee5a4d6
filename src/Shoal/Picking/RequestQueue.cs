namespace Shoal.Picking;

/// <summary>
/// How many block requests to keep outstanding to one peer (the pipeline depth).
/// </summary>
/// <remarks>
/// A peer can only send as fast as we keep it fed: after a block arrives, our next request needs a round
/// trip (plus the peer's disk read) before its data flows. To keep the link busy the queue must cover the
/// bandwidth-delay product. We size it for <see cref="CoveredSeconds"/> of the peer's current rate, which
/// covers WAN round trips (50-300 ms) with room for the peer's disk latency and rate growth, while keeping
/// the amount of work lost when a peer chokes or disconnects bounded to about one second of its transfer.
/// <para>
/// The floor (<see cref="MinDepth"/>) matters for new and slow peers whose measured rate is still zero or
/// tiny: without it, a new peer would get one request at a time and its rate would never be measured as
/// more than one block per round trip (the classic slow-start trap). 16 blocks = 256 KiB, one typical
/// piece. The ceiling (<see cref="MaxDepth"/>, 500 as libtorrent's <c>max_out_request_queue</c>) bounds
/// the memory a peer can pin and the duplicate work in endgame; many clients reject or drop more than a
/// few hundred queued requests anyway (libtorrent advertises <c>reqq</c> = 500 by default in BEP 10).
/// </para>
/// </remarks>
public static class RequestQueue
{
    /// <summary>Smallest queue depth, used for new or slow peers.</summary>
    public const int MinDepth = 16;

    /// <summary>Largest queue depth (8 MB of 16 KiB blocks outstanding to one peer).</summary>
    public const int MaxDepth = 500;

    /// <summary>Seconds of the peer's current download rate the queue should cover.</summary>
    public const double CoveredSeconds = 1.0;

    /// <summary>
    /// Number of requests to keep outstanding to a peer delivering <paramref name="downloadRateBytesPerSecond"/>:
    /// rate × <see cref="CoveredSeconds"/> / 16 KiB, clamped to [<see cref="MinDepth"/>, <see cref="MaxDepth"/>].
    /// Negative rates count as zero.
    /// </summary>
    public static int Depth(long downloadRateBytesPerSecond)
    {
        if (downloadRateBytesPerSecond <= 0) return MinDepth;
        double blocks = Math.Ceiling(downloadRateBytesPerSecond * CoveredSeconds / PiecePicker.BlockLength);
        if (blocks >= MaxDepth) return MaxDepth;
        return Math.Max(MinDepth, (int)blocks);
    }
}
