using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Shoal.Http;

namespace Shoal.WebSeeds;

/// <summary>
/// The session's HTTP client for web seeds: pooled connections kept alive between requests (bounded per host),
/// redirects followed up to a bound under the SSRF mitigation (<see cref="GuardedHttpClient"/>), no decompression, no
/// cookies. Sends
/// one request and checks the answer's headers against what was asked (status, Content-Range, Content-Length) before
/// a byte of the body is read, so a wrong answer is refused before it costs memory. Timeouts run on the session's
/// clock (<see cref="TimeProvider"/>), not the wall clock.
/// </summary>
internal sealed class WebSeedClient : IDisposable
{
    /// <summary>Most bytes of a BEP 17 busy body read for its retry time.</summary>
    private const int MaxBusyBody = 64;

    private readonly GuardedHttpClient _http;

    /// <param name="options">Connections, timeouts, redirects.</param>
    /// <param name="time">The session's clock.</param>
    /// <param name="userAgent">The User-Agent header.</param>
    /// <param name="classifier">Address scopes for the SSRF mitigation.</param>
    /// <param name="ssrfMitigation">Read before each request: whether the SSRF mitigation is on.</param>
    public WebSeedClient(WebSeedOptions options, TimeProvider time, string userAgent, IAddressClassifier classifier, Func<bool> ssrfMitigation)
    {
        Options = options;
        Time = time;
        _http = new GuardedHttpClient(() => new SocketsHttpHandler
        {
            MaxConnectionsPerServer = Math.Max(1, options.MaxConnectionsPerHost),
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
            // A backstop on the wall clock; the request timeout on the session's clock normally fires first.
            ConnectTimeout = options.RequestTimeout + TimeSpan.FromSeconds(5),
        }, classifier, ssrfMitigation, options.MaxRedirects, userAgent);
    }

    public WebSeedOptions Options { get; }

    public TimeProvider Time { get; }

    /// <summary>
    /// Sends <paramref name="request"/> and returns the response once its headers promise exactly the bytes asked for;
    /// the caller reads <see cref="WebSeedRequest.Length"/> bytes of its body and disposes it. Throws
    /// <see cref="WebSeedException"/> for every way the server can fail or refuse; <paramref name="seed"/> is the web
    /// seed's URL as the torrent names it, which the SSRF mitigation judges (<see cref="WebSeedFailureKind.Refused"/>).
    /// </summary>
    public async Task<HttpResponseMessage> SendAsync(WebSeedRequest request, Uri seed, CancellationToken cancellationToken)
    {
        using var deadline = new Deadline(Options.RequestTimeout, Time, cancellationToken);
        HttpResponseMessage response;
        try
        {
            response = await _http.GetAsync(request.Url!, seed, HttpRequestPurpose.WebSeed, message =>
            {
                if (request.Kind == WebSeedRequestKind.FileRange) message.Headers.Range = new RangeHeaderValue(request.Offset, request.Last);
            }, deadline.Token).ConfigureAwait(false);
        }
        catch (RequestRefusedException e)
        {
            throw new WebSeedException(WebSeedFailureKind.Refused, e.Message, inner: e);
        }
        catch (OperationCanceledException) when (deadline.Expired && !cancellationToken.IsCancellationRequested)
        {
            throw new WebSeedException(WebSeedFailureKind.Timeout, $"no answer within {Seconds(Options.RequestTimeout)}");
        }
        catch (HttpRequestException e)
        {
            throw new WebSeedException(WebSeedFailureKind.Connection, e.InnerException?.Message ?? e.Message, inner: e);
        }
        try
        {
            await CheckAsync(request, response, deadline.Token).ConfigureAwait(false);
            return response;
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    private async Task CheckAsync(WebSeedRequest request, HttpResponseMessage response, CancellationToken token)
    {
        int status = (int)response.StatusCode;
        long? contentLength = response.Content.Headers.ContentLength;
        switch (status)
        {
            case 206 when request.Kind == WebSeedRequestKind.FileRange:
                CheckContentRange(request, response.Content.Headers.ContentRange);
                break;
            case 200 when request.Kind == WebSeedRequestKind.Piece:
                break;
            case 200 when request.IsWholeFile:
                // A whole file asked for as a range may come back as a plain 200: the same bytes.
                break;
            case 200:
                if (contentLength is { } total && total != request.FileLength)
                    throw new WebSeedException(WebSeedFailureKind.WrongFile, $"the server's file is {total} bytes, the torrent's {request.FileLength}");
                throw new WebSeedException(WebSeedFailureKind.NoRanges, "the server ignores byte ranges (200 to a ranged GET)");
            case 503 or 429:
                throw new WebSeedException(WebSeedFailureKind.Busy, $"busy (HTTP {status})", await RetryAfterAsync(request, response, token).ConfigureAwait(false));
            case >= 300 and < 400:
                throw new WebSeedException(WebSeedFailureKind.Redirects, $"HTTP {status}: more than {Options.MaxRedirects} redirects (a redirect loop?)");
            default:
                throw new WebSeedException(WebSeedFailureKind.HttpStatus, $"HTTP {status} {response.ReasonPhrase}".TrimEnd());
        }
        if (contentLength is { } length && length != request.Length)
            throw new WebSeedException(WebSeedFailureKind.WrongLength, $"Content-Length {length}, asked for {request.Length} bytes");
    }

    private static void CheckContentRange(WebSeedRequest request, ContentRangeHeaderValue? range)
    {
        if (range is null || !range.HasRange || !string.Equals(range.Unit, "bytes", StringComparison.OrdinalIgnoreCase))
            throw new WebSeedException(WebSeedFailureKind.ContentRange, "a 206 answer without a byte Content-Range");
        if (range.Length is { } total && total != request.FileLength)
            throw new WebSeedException(WebSeedFailureKind.WrongFile, $"the server's file is {total} bytes, the torrent's {request.FileLength}");
        if (range.From != request.Offset || range.To != request.Last)
            throw new WebSeedException(WebSeedFailureKind.ContentRange, $"Content-Range {range.From}-{range.To}, asked for {request.Offset}-{request.Last}");
    }

    /// <summary>The Retry-After header (seconds or a date), or, for BEP 17, the body's number of seconds; null when neither says.</summary>
    private async Task<TimeSpan?> RetryAfterAsync(WebSeedRequest request, HttpResponseMessage response, CancellationToken token)
    {
        if (response.Headers.RetryAfter is { } header)
        {
            if (header.Delta is { } delta) return delta;
            if (header.Date is { } date) return date - Time.GetUtcNow();
        }
        if (request.Kind != WebSeedRequestKind.Piece) return null;
        try
        {
            Stream body = await response.Content.ReadAsStreamAsync(token).ConfigureAwait(false);
            byte[] text = new byte[MaxBusyBody];
            int n = await body.ReadAtLeastAsync(text, text.Length, throwOnEndOfStream: false, token).ConfigureAwait(false);
            return int.TryParse(System.Text.Encoding.ASCII.GetString(text, 0, n).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int seconds)
                ? TimeSpan.FromSeconds(seconds)
                : null;
        }
        catch (Exception e) when (e is IOException or HttpRequestException or OperationCanceledException)
        {
            return null;
        }
    }

    private static string Seconds(TimeSpan time) => time.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture) + " s";

    public void Dispose() => _http.Dispose();
}
