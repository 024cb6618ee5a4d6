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
    public string? CreatedBy { get; init; } = ShoalVersion.ClientName;

    /// <summary>'creation date'; null omits it.</summary>
    public DateTimeOffset? CreationDate { get; init; }

    /// <summary>
    /// v1 (the default: every client reads it), v2 (BEP 52 only) or hybrid (both in one info dictionary, files padded
    /// to piece boundaries, as libtorrent 2 and qBittorrent make by default). The v2 and hybrid layouts are
    /// libtorrent's, so the same files and piece length give libtorrent's info-hashes.
    /// </summary>
    public TorrentVersion Version { get; init; } = TorrentVersion.V1;
}
