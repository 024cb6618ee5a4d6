namespace Shoal.Metainfo;

/// <summary>One file of a torrent.</summary>
/// <param name="PathSegments">
/// Path relative to the download folder, torrent name included: a single-file torrent gives [name], a
/// multi-file torrent [name, folder..., file]. Every segment is validated: no empty, '.', '..', separators,
/// drive letters or NUL.
/// </param>
/// <param name="Length">Bytes.</param>
/// <param name="Offset">Where the file starts in the torrent's byte stream.</param>
/// <param name="IsPadding">A BEP 47 padding file (attr 'p'): its bytes are zeros and never written.</param>
public sealed record TorrentFile(IReadOnlyList<string> PathSegments, long Length, long Offset, bool IsPadding)
{
    /// <summary>The path joined with '/'.</summary>
    public string Path => string.Join('/', PathSegments);
}
