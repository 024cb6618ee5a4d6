namespace Shoal.WebSeeds;

/// <summary>What one step of a run asks of the server.</summary>
internal enum WebSeedRequestKind
{
    /// <summary>BEP 19: a GET of one file with a Range header for <see cref="WebSeedRequest.Offset"/> and <see cref="WebSeedRequest.Length"/>.</summary>
    FileRange,

    /// <summary>BEP 17: a GET of a piece (or ranges of it) named in the query string; the body is exactly the bytes asked for.</summary>
    Piece,

    /// <summary>Bytes of a BEP 47 padding file: zeros by definition, asked of nobody.</summary>
    Zeros,
}

/// <summary>One HTTP request of a run of pieces (or a stretch of padding that needs none).</summary>
/// <param name="Kind">How the bytes are asked for.</param>
/// <param name="Url">The file's or the piece's URL; null for <see cref="WebSeedRequestKind.Zeros"/>.</param>
/// <param name="Offset">First byte wanted, within the file (<see cref="WebSeedRequestKind.FileRange"/>).</param>
/// <param name="Length">Bytes wanted.</param>
/// <param name="FileLength">The file's length in the torrent: what a Content-Range must report as the total.</param>
internal readonly record struct WebSeedRequest(WebSeedRequestKind Kind, Uri? Url, long Offset, long Length, long FileLength)
{
    /// <summary>The inclusive end of the range.</summary>
    public long Last => Offset + Length - 1;

    /// <summary>True when the range is the whole file (a server may answer 200 with the file instead of 206).</summary>
    public bool IsWholeFile => Kind == WebSeedRequestKind.FileRange && Offset == 0 && Length == FileLength;
}
