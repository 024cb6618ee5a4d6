using System.Text;
using Shoal.Metainfo;

namespace Shoal.WebSeeds;

/// <summary>
/// Where a web seed keeps what we ask for: BEP 19's file URLs and BEP 17's piece URLs. Pure string work.
/// </summary>
/// <remarks>
/// BEP 19 (as libtorrent reads it): for a torrent of one file, the URL names the file itself, unless it ends with '/',
/// in which case the file's path (the torrent's name) is added. For a torrent of several files, the URL names the
/// folder that holds the torrent's folder ('/' is added when missing) and each file is at URL + name + '/' + path.
/// Each added path segment is percent-encoded on its own (RFC 3986: everything but the unreserved characters), so a
/// name with spaces, '#', '?' or non-ASCII letters reaches the right file; the URL given in the torrent is used as it
/// is. A query string in the URL stays at the end. The paths are the torrent's sanitised ones, as libtorrent uses.
/// </remarks>
internal static class WebSeedUrls
{
    /// <summary>An absolute http or https URL, or null (BEP 19: a client ignores the protocols it does not know).</summary>
    public static Uri? TryParse(string text)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out Uri? uri)) return null;
        if (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) return null;
        if (string.IsNullOrEmpty(uri.Host)) return null;
        return uri;
    }

    /// <summary>The URL of each file of <paramref name="torrent"/> on the BEP 19 server at <paramref name="seed"/> (null for padding files).</summary>
    public static Uri?[] FileUrls(Uri seed, Torrent torrent)
    {
        IReadOnlyList<TorrentFile> files = torrent.Files;
        var urls = new Uri?[files.Count];
        string path = seed.GetLeftPart(UriPartial.Path);
        string query = seed.Query; // "" or "?...", kept after the path
        bool oneFile = files.Count == 1;
        if (oneFile && !path.EndsWith('/'))
        {
            urls[0] = seed;
            return urls;
        }
        if (!path.EndsWith('/')) path += "/";
        for (int i = 0; i < files.Count; i++)
        {
            if (files[i].IsPadding) continue;
            urls[i] = new Uri(path + EscapePath(files[i].PathSegments) + query, UriKind.Absolute);
        }
        return urls;
    }

    /// <summary>Segments percent-encoded one by one and joined with '/'.</summary>
    public static string EscapePath(IReadOnlyList<string> segments)
    {
        var text = new StringBuilder();
        for (int i = 0; i < segments.Count; i++)
        {
            if (i > 0) text.Append('/');
            text.Append(Uri.EscapeDataString(segments[i]));
        }
        return text.ToString();
    }

    /// <summary>
    /// BEP 17: <c>URL?info_hash=HASH&amp;piece=N</c>, with <c>&amp;ranges=A-B</c> (inclusive, within the piece) when only
    /// part of the piece is wanted.
    /// </summary>
    public static Uri PieceUrl(Uri seed, InfoHash infoHash, int piece, int offset, int length, int pieceSize)
    {
        var text = new StringBuilder(seed.AbsoluteUri);
        text.Append(string.IsNullOrEmpty(seed.Query) ? '?' : '&');
        text.Append("info_hash=");
        foreach (byte b in infoHash.Span)
        {
            // Unreserved bytes as they are, everything else as %XX (what trackers and seed scripts expect).
            if (b is >= (byte)'A' and <= (byte)'Z' or >= (byte)'a' and <= (byte)'z' or >= (byte)'0' and <= (byte)'9' or (byte)'-' or (byte)'_' or (byte)'.' or (byte)'~')
                text.Append((char)b);
            else
                text.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
        }
        text.Append("&piece=").Append(piece.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (offset != 0 || length != pieceSize)
        {
            text.Append("&ranges=").Append(offset.ToString(System.Globalization.CultureInfo.InvariantCulture))
                .Append('-').Append((offset + length - 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        return new Uri(text.ToString(), UriKind.Absolute);
    }
}
