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

    /// <summary>
    /// How many bytes of the data this torrent wrote most recently stay in the operating system's page cache; older
    /// written data is dropped from it once it is on disk (Linux; elsewhere the OS decides). Null leaves everything
    /// to the OS. Default 64 MiB.
    /// </summary>
    /// <remarks>
    /// A download is written once and read again only to upload it, mostly soon after it arrived (a new piece is
    /// rare, so peers ask for it first); the window keeps those reads in memory. Without a bound, a 50 GB download
    /// pushes 50 GB through the page cache, evicting what other programs had cached, and every page of it is
    /// freshly allocated memory. On a virtual machine that returns free memory to its host (free page reporting,
    /// ballooning), fresh memory costs a host fault per page. Measured on such a VM (docs/performance.md), a 1 GiB
    /// download from one peer: 1.9-3.4 s of kernel time and 242-355 MiB/s leaving everything cached, 0.8 s and
    /// 506-558 MiB/s with the 64 MiB window, which keeps reusing the same pages. libtorrent's
    /// <c>disk_io_write_mode</c> (<c>disable_os_cache</c>, <c>write_through</c>) serves the same purpose; the window
    /// keeps recent pieces served from memory.
    /// </remarks>
    public long? OsCacheWindow { get; init; } = DefaultOsCacheWindow;

    /// <summary>The default of <see cref="OsCacheWindow"/>: 64 MiB.</summary>
    public const long DefaultOsCacheWindow = 64L * 1024 * 1024;

    /// <summary>
    /// Seed only: the files are opened for reading only and nothing is ever created, written, truncated or deleted
    /// (<see cref="TorrentStorage.WriteBlockAsync"/> throws). For sharing data that is already there: a mismatch must
    /// never cost the user a byte of their file. <see cref="PartsDirectory"/> is not used.
    /// </summary>
    public bool ReadOnly { get; init; }

}
