using System.Buffers;
using System.Globalization;
using System.Net;
using System.Text;
using Shoal.Http;
using Shoal.Metainfo;

namespace Shoal.Trackers;

/// <summary>
/// An HTTP or HTTPS tracker (BEP 3): GET announce with compact=1, answers with compact or dictionary peers and
/// <c>peers6</c>; scrape on the BEP 48 URL. The <see cref="HttpClient"/> is shared and owned by the caller.
/// </summary>
public sealed class HttpTrackerClient : ITrackerClient
{
    private readonly HttpClient? _http;
    private readonly GuardedHttpClient? _guarded;
    private readonly HttpTrackerOptions _options;
    private readonly TimeProvider _time;

    /// <summary>Creates a client for <paramref name="announceUrl"/> (http or https); its timeout runs on <paramref name="time"/> (null: the system clock).</summary>
    public HttpTrackerClient(Uri announceUrl, HttpClient http, HttpTrackerOptions? options = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(announceUrl);
        ArgumentNullException.ThrowIfNull(http);
        if (!announceUrl.IsAbsoluteUri || announceUrl.Scheme is not ("http" or "https"))
        {
            throw new ArgumentException($"'{announceUrl}' is not an http:// or https:// tracker URL", nameof(announceUrl));
        }
        Url = announceUrl;
        _http = http;
        _options = options ?? new HttpTrackerOptions();
        _time = time ?? TimeProvider.System;
    }

    /// <summary>A session's client: its requests (and redirects) are held to the SSRF mitigation's tracker rule.</summary>
    internal HttpTrackerClient(Uri announceUrl, GuardedHttpClient guarded, HttpTrackerOptions? options, TimeProvider time)
    {
        if (!announceUrl.IsAbsoluteUri || announceUrl.Scheme is not ("http" or "https"))
        {
            throw new ArgumentException($"'{announceUrl}' is not an http:// or https:// tracker URL", nameof(announceUrl));
        }
        Url = announceUrl;
        _guarded = guarded;
        _options = options ?? new HttpTrackerOptions();
        _time = time;
    }

    /// <inheritdoc />
    public Uri Url { get; }

    /// <summary>The announce URL with the request's parameters, as sent.</summary>
    public Uri BuildAnnounceUrl(AnnounceRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var url = new StringBuilder(Url.OriginalString.Length + 256);
        url.Append(Url.OriginalString);
        // A private tracker's URL often carries its own query (a passkey): ours is appended to it.
        url.Append(Url.OriginalString.Contains('?', StringComparison.Ordinal) ? '&' : '?');
        url.Append("info_hash=");
        TrackerUrl.AppendPercentEncoded(url, request.InfoHash.Span);
        url.Append("&peer_id=");
        TrackerUrl.AppendPercentEncoded(url, request.PeerId.Span);
        url.Append(CultureInfo.InvariantCulture, $"&port={request.Port}&uploaded={request.Uploaded}&downloaded={request.Downloaded}&left={request.Left}");
        url.Append("&compact=1");
        if (request.NumWant >= 0) url.Append(CultureInfo.InvariantCulture, $"&numwant={request.NumWant}");
        url.Append("&key=").Append(request.Key.ToString("X8", CultureInfo.InvariantCulture));
        string? evt = request.Event switch
        {
            AnnounceEvent.Started => "started",
            AnnounceEvent.Completed => "completed",
            AnnounceEvent.Stopped => "stopped",
            _ => null,
        };
        if (evt is not null) url.Append("&event=").Append(evt);
        if (request.TrackerId is { Length: > 0 } trackerId)
        {
            url.Append("&trackerid=");
            TrackerUrl.AppendPercentEncoded(url, Encoding.UTF8.GetBytes(trackerId));
        }
        return new Uri(url.ToString());
    }

    /// <inheritdoc />
    public async Task<AnnounceResponse> AnnounceAsync(AnnounceRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        byte[] body = await GetAsync(BuildAnnounceUrl(request), cancellationToken).ConfigureAwait(false);
        AnnounceResponse? response;
        string? failure;
        try
        {
            response = HttpTrackerResponseParser.ParseAnnounce(body, _options.MaxPeers, out failure);
        }
        catch (TrackerFormatException e)
        {
            throw new TrackerFormatException($"tracker {Url}: {e.Message}", e);
        }
        return response ?? throw new TrackerException(Url, $"refused: {failure}", failure);
    }

    /// <inheritdoc />
    public async Task<ScrapeResponse> ScrapeAsync(IReadOnlyList<InfoHash> infoHashes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(infoHashes);
        Uri scrape = TrackerUrl.TryGetScrapeUrl(Url)
            ?? throw new TrackerException(Url, "cannot scrape: the announce URL's last path segment does not start with 'announce' (BEP 48)");
        var url = new StringBuilder(scrape.OriginalString);
        char separator = scrape.OriginalString.Contains('?', StringComparison.Ordinal) ? '&' : '?';
        foreach (InfoHash hash in infoHashes)
        {
            url.Append(separator).Append("info_hash=");
            TrackerUrl.AppendPercentEncoded(url, hash.Span);
            separator = '&';
        }
        byte[] body = await GetAsync(new Uri(url.ToString()), cancellationToken).ConfigureAwait(false);
        ScrapeResponse? response;
        string? failure;
        try
        {
            response = HttpTrackerResponseParser.ParseScrape(body, out failure);
        }
        catch (TrackerFormatException e)
        {
            throw new TrackerFormatException($"tracker {Url}: {e.Message}", e);
        }
        return response ?? throw new TrackerException(Url, $"refused: {failure}", failure);
    }

    /// <summary>Nothing to release: the <see cref="HttpClient"/> belongs to the caller.</summary>
    public void Dispose() { }

    private async Task<byte[]> GetAsync(Uri url, CancellationToken cancellationToken)
    {
        using var timeout = new Deadline(_options.Timeout, _time, cancellationToken);
        try
        {
            using HttpResponseMessage response = await SendAsync(url, timeout.Token).ConfigureAwait(false);
            byte[] body = await ReadBoundedAsync(response.Content, timeout.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                // Some trackers send their failure reason with a 4xx status: show it rather than the bare code.
                string? reason = null;
                try
                {
                    HttpTrackerResponseParser.ParseAnnounce(body, 0, out reason);
                }
                catch (TrackerFormatException)
                {
                }
                string status = $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}".TrimEnd();
                throw new TrackerException(Url, reason is null ? $"answered {status}" : $"answered {status}: {reason}", reason);
            }
            return body;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TrackerException(Url, $"no answer within {_options.Timeout.TotalSeconds:0} s");
        }
        catch (RequestRefusedException e)
        {
            throw new TrackerException(Url, e.Message, inner: e) { IsRefused = true };
        }
        catch (HttpRequestException e)
        {
            throw new TrackerException(Url, $"request failed: {e.Message}", inner: e);
        }
        catch (IOException e)
        {
            throw new TrackerException(Url, $"connection failed: {e.Message}", inner: e);
        }
    }

    private async Task<HttpResponseMessage> SendAsync(Uri url, CancellationToken token)
    {
        if (_guarded is not null) return await _guarded.GetAsync(url, Url, HttpRequestPurpose.Tracker, null, token).ConfigureAwait(false);
        using var message = new HttpRequestMessage(HttpMethod.Get, url);
        return await _http!.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, token).ConfigureAwait(false);
    }

    private async Task<byte[]> ReadBoundedAsync(HttpContent content, CancellationToken cancellationToken)
    {
        int max = _options.MaxResponseBytes;
        if (content.Headers.ContentLength is long declared && declared > max)
        {
            throw new TrackerException(Url, $"answer of {declared} bytes is larger than the {max}-byte limit");
        }
        Stream stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            byte[] buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
            try
            {
                int length = 0;
                while (true)
                {
                    if (length == buffer.Length)
                    {
                        if (length >= max + 1) break;
                        byte[] larger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, max + 1));
                        buffer.AsSpan(0, length).CopyTo(larger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = larger;
                    }
                    int read = await stream.ReadAsync(buffer.AsMemory(length, Math.Min(buffer.Length, max + 1) - length), cancellationToken).ConfigureAwait(false);
                    if (read == 0) break;
                    length += read;
                    if (length > max) throw new TrackerException(Url, $"answer is larger than the {max}-byte limit");
                }
                return buffer.AsSpan(0, length).ToArray();
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }
}
