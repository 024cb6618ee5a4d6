namespace Shoal.Storage;

/// <summary>One file of a storage layout, in torrent order.</summary>
/// <param name="PathSegments">Path relative to the download folder (torrent name included), one segment per folder level.</param>
/// <param name="Length">Bytes.</param>
/// <param name="IsPadding">A BEP 47 padding file: its bytes are zeros, it is never created, written or read from disk.</param>
public sealed record StorageFile(IReadOnlyList<string> PathSegments, long Length, bool IsPadding)
{
    /// <summary>BEP 47 'x': the file gets its execute bits once the download is complete.</summary>
    public bool IsExecutable { get; init; }

    /// <summary>
    /// BEP 47 'l' with a target inside the torrent: the path segments (download folder relative, torrent name included)
    /// of what the symbolic link points to. Such an entry holds no data, is never opened as a file, and becomes a link once
    /// the download is complete. Null for every other file (a link whose target is unsafe is an empty regular file).
    /// </summary>
    public IReadOnlyList<string>? SymlinkTarget { get; init; }
}
