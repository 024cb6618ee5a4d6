namespace Shoal.Storage;

/// <summary>One file of a storage layout, in torrent order.</summary>
/// <param name="PathSegments">Path relative to the download folder (torrent name included), one segment per folder level.</param>
/// <param name="Length">Bytes.</param>
/// <param name="IsPadding">A BEP 47 padding file: its bytes are zeros, it is never created, written or read from disk.</param>
public sealed record StorageFile(IReadOnlyList<string> PathSegments, long Length, bool IsPadding);
