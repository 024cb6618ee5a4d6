using System.Net;
using Shoal.Metainfo;

namespace Shoal.Daemon.Service;

/// <summary>A torrent to add, parsed: its metainfo, or a magnet link.</summary>
/// <param name="Torrent">The parsed .torrent.</param>
/// <param name="Magnet">The magnet link, when that is all there is.</param>
internal sealed record TorrentSource(Torrent? Torrent, MagnetLink? Magnet)
{
    /// <summary>Largest .torrent fetched from a URL.</summary>
    public const int MaxDownloadBytes = 32 * 1024 * 1024;

    /// <summary>Redirects followed at most when fetching a URL.</summary>
    private const int MaxRedirects = 5;

    /// <summary>The info-hash.</summary>
    public InfoHash InfoHash => Torrent?.InfoHash ?? Magnet!.InfoHash;

    /// <summary>
    /// Parses what <paramref name="request"/> names; a URL is fetched with <paramref name="http"/>. Throws
    /// <see cref="ServiceException"/> naming what is wrong (a corrupt torrent, a bad magnet, a URL that failed).
    /// </summary>
    public static async Task<TorrentSource> ReadAsync(AddTorrentRequest request, HttpClient http, CancellationToken cancellationToken)
    {
        if (request.Metainfo is not null == !string.IsNullOrWhiteSpace(request.Uri))
            throw ServiceException.Bad("give either a .torrent file or a magnet link or URL, not both or neither");
        if (request.Metainfo is { } bytes) return FromBytes(bytes, "the uploaded file");
        string uri = request.Uri!.Trim();
        if (uri.StartsWith("magnet:", StringComparison.OrdinalIgnoreCase)) return FromMagnet(uri);
        if (InfoHash.TryParse(uri, out InfoHash bare)) return new TorrentSource(null, new MagnetLink(bare, null, [], [], []));
        if (!Uri.TryCreate(uri, UriKind.Absolute, out Uri? url) || url.Scheme is not ("http" or "https"))
            throw ServiceException.Bad($"'{Shorten(uri)}' is not a magnet link, an info-hash or an http(s) URL");
        return await FetchAsync(url, http, cancellationToken).ConfigureAwait(false);
    }

    private static TorrentSource FromBytes(byte[] bytes, string what)
    {
        try
        {
            return new TorrentSource(Torrent.Parse(bytes), null);
        }
        catch (MetainfoException ex)
        {
            throw ServiceException.Bad($"{what} is not a valid .torrent: {ex.Message}");
        }
    }

    private static TorrentSource FromMagnet(string uri)
    {
        try
        {
            return new TorrentSource(null, MagnetLink.Parse(uri));
        }
        catch (MetainfoException ex)
        {
            throw ServiceException.Bad($"invalid magnet link: {ex.Message}");
        }
    }

    private static async Task<TorrentSource> FetchAsync(Uri url, HttpClient http, CancellationToken cancellationToken)
    {
        Uri current = url;
        for (int redirects = 0; ; redirects++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, current);
            HttpResponseMessage response;
            try
            {
                response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                throw new ServiceException(ServiceErrorKind.Failed, $"fetching {url} failed: {ex.Message}", ex);
            }
            using (response)
            {
                if ((int)response.StatusCode is >= 300 and < 400 && response.Headers.Location is { } location)
                {
                    // Indexers answer a download link with a redirect to a magnet link; HttpClient cannot follow that.
                    Uri next = location.IsAbsoluteUri ? location : new Uri(current, location);
                    if (next.Scheme == "magnet") return FromMagnet(next.OriginalString);
                    if (redirects >= MaxRedirects) throw new ServiceException(ServiceErrorKind.Failed, $"fetching {url}: too many redirects");
                    if (next.Scheme is not ("http" or "https")) throw new ServiceException(ServiceErrorKind.Failed, $"fetching {url}: redirected to {next.Scheme}:");
                    current = next;
                    continue;
                }
                if (response.StatusCode != HttpStatusCode.OK)
                    throw new ServiceException(ServiceErrorKind.Failed, $"fetching {url} failed: HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
                if (response.Content.Headers.ContentLength > MaxDownloadBytes)
                    throw new ServiceException(ServiceErrorKind.Failed, $"{url} is larger than {MaxDownloadBytes} bytes: not a .torrent");
                byte[] body = await ReadBoundedAsync(response.Content, url, cancellationToken).ConfigureAwait(false);
                return FromBytes(body, url.ToString());
            }
        }
    }

    private static async Task<byte[]> ReadBoundedAsync(HttpContent content, Uri url, CancellationToken cancellationToken)
    {
        await using Stream stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        using var buffer = new MemoryStream();
        byte[] chunk = new byte[64 * 1024];
        while (true)
        {
            int read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false);
            if (read == 0) return buffer.ToArray();
            if (buffer.Length + read > MaxDownloadBytes) throw new ServiceException(ServiceErrorKind.Failed, $"{url} is larger than {MaxDownloadBytes} bytes: not a .torrent");
            buffer.Write(chunk, 0, read);
        }
    }

    private static string Shorten(string text) => text.Length <= 80 ? text : text[..77] + "...";
}
