namespace Shoal.Metainfo;

/// <summary>One file of a torrent.</summary>
/// <param name="PathSegments">
/// Path relative to the download folder, torrent name included: a single-file torrent gives [name], a
/// multi-file torrent [name, folder..., file]. Every segment is sanitised as libtorrent does (see
/// <see cref="Torrent"/>): never empty, '.', '..', a separator, a control character or longer than 250 bytes, so the
/// path cannot leave the download folder.
/// </param>
/// <param name="Length">Bytes (0 for a symbolic link).</param>
/// <param name="Offset">Where the file starts in the torrent's byte stream.</param>
/// <param name="IsPadding">A BEP 47 padding file (attr 'p'): its bytes are zeros and never written.</param>
public sealed record TorrentFile(IReadOnlyList<string> PathSegments, long Length, long Offset, bool IsPadding)
{
    /// <summary>The path joined with '/'.</summary>
    public string Path => string.Join('/', PathSegments);

    /// <summary>The BEP 47 attributes (<see cref="TorrentFileAttributes.Padding"/> matches <see cref="IsPadding"/>).</summary>
    public TorrentFileAttributes Attributes { get; init; }

    /// <summary>True for attr 'x'.</summary>
    public bool IsExecutable => (Attributes & TorrentFileAttributes.Executable) != 0;

    /// <summary>True for attr 'h'.</summary>
    public bool IsHidden => (Attributes & TorrentFileAttributes.Hidden) != 0;

    /// <summary>True for attr 'l' with a <c>symlink path</c>.</summary>
    public bool IsSymlink => (Attributes & TorrentFileAttributes.Symlink) != 0;

    /// <summary>
    /// For a symbolic link: what it points to, as path segments relative to the download folder (torrent name
    /// included, like <see cref="PathSegments"/>). Only a file or folder of this torrent is ever a target; a link
    /// whose target is outside the torrent, absolute, or missing has null here and must not be created as a link.
    /// </summary>
    public IReadOnlyList<string>? SymlinkTarget { get; init; }

    /// <summary>The BEP 52 <c>pieces root</c> (SHA-256 merkle root of the file's 16 KiB blocks); null for v1-only torrents, padding and empty files.</summary>
    public Sha256Hash? PiecesRoot { get; init; }

    /// <summary>Sanitising or a duplicate changed the path the torrent gave (e.g. '..' dropped, 'a.txt' became 'a.1.txt').</summary>
    public bool WasRenamed { get; init; }
}
