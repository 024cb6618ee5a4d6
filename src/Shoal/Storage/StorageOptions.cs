namespace Shoal.Storage;

/// <summary>Tuning knobs of one <see cref="TorrentStorage"/>.</summary>
public sealed record StorageOptions
{
    /// <summary>
    /// Upper bound, in bytes, of download data held in memory per torrent before it is on disk: the piece-sized
    /// buffers of pieces in progress (each charged its full size from its first block) plus, for pieces written
    /// block by block, early blocks waiting for the gap before them to fill so they can be hashed. A piece that
    /// does not fit in what is left (or is larger than the whole budget) is written block by block as its blocks
    /// arrive instead of once as a whole - slower, but bounded. 0 disables the cache (always block by block).
    /// Default 32 MiB: 32 pieces of 1 MiB, 8 of 4 MiB or 2 of 16 MiB in flight, which covers one fast peer's
    /// request pipeline with room to spare, while keeping a leecher well inside a ~150 MB footprint.
    /// </summary>
    public long WriteCacheBudget { get; init; } = 32L * 1024 * 1024;

    /// <summary>
    /// Files (indices in the layout) the user did not select (BEP 53 'so=', or a deselected file): never
    /// created, never written, read as zeros. A piece that straddles such a file and a wanted one is always
    /// assembled in memory (even past <see cref="WriteCacheBudget"/>), because its hash covers bytes that will
    /// not be in the files to read back; its copy goes to <see cref="PartsDirectory"/> when that is set.
    /// </summary>
    public IReadOnlySet<int>? SkippedFiles { get; init; }

    /// <summary>
    /// Where whole copies of the pieces that straddle a skipped file and a selected one are kept (see
    /// <see cref="PieceParts"/>), so such pieces can be uploaded and are rechecked rather than downloaded again
    /// after a restart. Null: not kept, and such pieces are never uploaded. Only used when files are skipped.
    /// </summary>
    public string? PartsDirectory { get; init; }

    /// <summary>Maximum number of file handles kept open; the least recently used idle one is closed beyond it. Default 128.</summary>
    public int MaxOpenFiles { get; init; } = 128;
}
