using Shoal.Metainfo;
using Shoal.Storage;

namespace Shoal.WebSeeds;

/// <summary>
/// Turns a run of the torrent's byte stream into the HTTP requests that fetch it from one web seed: for BEP 19 one
/// ranged GET per file the run crosses (padding files are zeros, asked of nobody), for BEP 17 one GET per piece.
/// Pure; the file URLs are worked out once per server.
/// </summary>
internal sealed class WebSeedPlanner
{
    private readonly WebSeedKind _kind;
    private readonly Uri _url;
    private readonly StorageLayout _layout;
    private readonly InfoHash _infoHash;
    private readonly Uri?[]? _fileUrls;

    public WebSeedPlanner(WebSeedKind kind, Uri url, Torrent torrent, StorageLayout layout)
    {
        _kind = kind;
        _url = url;
        _layout = layout;
        _infoHash = torrent.InfoHash;
        if (kind == WebSeedKind.UrlList) _fileUrls = WebSeedUrls.FileUrls(url, torrent);
    }

    /// <summary>The web seed's URL as the torrent names it.</summary>
    public Uri Url => _url;

    /// <summary>Appends to <paramref name="requests"/> what fetches the torrent bytes [<paramref name="start"/>, start + <paramref name="length"/>).</summary>
    public void Plan(long start, long length, List<WebSeedRequest> requests)
    {
        if (_kind == WebSeedKind.HttpSeed)
        {
            PlanPieces(start, length, requests);
            return;
        }
        foreach (FileSlice slice in _layout.MapRange(start, length))
        {
            StorageFile file = _layout.Files[slice.FileIndex];
            requests.Add(file.IsPadding
                ? new WebSeedRequest(WebSeedRequestKind.Zeros, null, slice.FileOffset, slice.Length, file.Length)
                : new WebSeedRequest(WebSeedRequestKind.FileRange, _fileUrls![slice.FileIndex], slice.FileOffset, slice.Length, file.Length));
        }
    }

    private void PlanPieces(long start, long length, List<WebSeedRequest> requests)
    {
        long end = start + length;
        while (start < end)
        {
            int piece = (int)(start / _layout.PieceLength);
            int pieceSize = _layout.GetPieceSize(piece);
            int offset = (int)(start - _layout.GetPieceOffset(piece));
            int n = (int)Math.Min(pieceSize - offset, end - start);
            requests.Add(new WebSeedRequest(WebSeedRequestKind.Piece, WebSeedUrls.PieceUrl(_url, _infoHash, piece, offset, n, pieceSize), 0, n, n));
            start += n;
        }
    }
}
