namespace Shoal.Storage;

/// <summary>Tuning knobs of one <see cref="TorrentStorage"/>.</summary>
public sealed record StorageOptions
{
    /// <summary>
    /// Upper bound, in bytes, of out-of-order blocks kept in memory per torrent while they wait for the gap
    /// before them to fill so they can be hashed. Blocks beyond the budget are still written to disk at once
    /// but read back for hashing when their turn comes. Default 64 MiB.
    /// </summary>
    public long WriteCacheBudget { get; init; } = 64L * 1024 * 1024;

    /// <summary>Maximum number of file handles kept open; the least recently used idle one is closed beyond it. Default 128.</summary>
    public int MaxOpenFiles { get; init; } = 128;
}
