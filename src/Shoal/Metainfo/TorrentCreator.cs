namespace Shoal.Metainfo;

/// <summary>Options for <see cref="TorrentCreator"/>.</summary>
public sealed record TorrentCreationOptions
{
    /// <summary>Announce URLs; each inner list is one tier (BEP 12).</summary>
    public IReadOnlyList<IReadOnlyList<string>> AnnounceTiers { get; init; } = [];

    /// <summary>Piece length in bytes (power of two, ≥ 16 KiB); null chooses from the total size.</summary>
    public int? PieceLength { get; init; }

    /// <summary>Sets the private flag.</summary>
    public bool IsPrivate { get; init; }

    /// <summary>Optional comment.</summary>
    public string? Comment { get; init; }

    /// <summary>'created by'.</summary>
    public string? CreatedBy { get; init; } = "Shoal 0.1";

    /// <summary>'creation date'; null omits it.</summary>
    public DateTimeOffset? CreationDate { get; init; }
}

/// <summary>Makes v1 torrents from a file or a folder.</summary>
public static class TorrentCreator
{
    /// <summary>
    /// Hashes <paramref name="path"/> (a file, or a folder walked in ordinal path order) and returns the torrent.
    /// <paramref name="hashedBytes"/> reports progress in bytes.
    /// </summary>
    public static Task<Torrent> CreateAsync(string path, TorrentCreationOptions options, IProgress<long>? hashedBytes = null, CancellationToken cancellationToken = default)
        => throw new NotImplementedException();

    /// <summary>The piece length chosen for a total size: aims at roughly 1,000–2,000 pieces, within 16 KiB..16 MiB.</summary>
    public static int ChoosePieceLength(long totalSize) => throw new NotImplementedException();
}
