using System.Net;
using System.Net.Sockets;

namespace Shoal.Http;

/// <summary>
/// Sends the GETs of web seeds and trackers under the SSRF mitigation (<see cref="SsrfRules"/>), following redirects
/// itself so that every hop is judged. The rules need the scope of the address a request actually reaches, and a
/// pooled connection is reused by later requests to the same host, so there is one connection pool per scope: the
/// host is resolved and classified, the request goes to that scope's pool, and the pool's connect callback connects
/// only to addresses of its scope. A pooled connection therefore always is where its pool says, and a DNS answer that
/// changed between the check and the connection (DNS rebinding) finds no address to connect to. With the mitigation
/// off a fourth, unrestricted pool is used and nothing is resolved beforehand.
/// </summary>
/// <remarks>
/// The scoped pools connect directly (no proxy): through a proxy the address connected to would be the proxy's. One
/// DNS lookup per request for a host name (an IP literal needs none); the operating system's resolver caches it.
/// </remarks>
internal sealed class GuardedHttpClient : IDisposable
{
    private readonly HttpClient _open;
    private readonly HttpClient[] _scoped;
    private readonly IAddressClassifier _classifier;
    private readonly Func<bool> _enabled;
    private readonly int _maxRedirects;

    /// <param name="newHandler">Makes a handler with the caller's pooling and timeouts (redirects and connection are set here).</param>
    /// <param name="classifier">The address scopes.</param>
    /// <param name="enabled">Read before each request: the mitigation's setting, which may change at run time.</param>
    /// <param name="maxRedirects">Redirects followed per request; the answer after that many is returned as it is.</param>
    /// <param name="userAgent">The User-Agent header, or null for none.</param>
    public GuardedHttpClient(Func<SocketsHttpHandler> newHandler, IAddressClassifier classifier, Func<bool> enabled, int maxRedirects, string? userAgent)
    {
        _classifier = classifier;
        _enabled = enabled;
        _maxRedirects = Math.Max(0, maxRedirects);
        SocketsHttpHandler open = newHandler();
        open.AllowAutoRedirect = false;
        _open = NewClient(open, userAgent);
        _scoped = new HttpClient[3];
        foreach (AddressScope scope in Enum.GetValues<AddressScope>())
        {
            SocketsHttpHandler handler = newHandler();
            handler.AllowAutoRedirect = false;
            handler.UseProxy = false;
            handler.ConnectCallback = (context, token) => ConnectAsync(scope, context, token);
            _scoped[(int)scope] = NewClient(handler, userAgent);
        }
    }

    private static HttpClient NewClient(SocketsHttpHandler handler, string? userAgent)
    {
        var client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        if (userAgent is not null) client.DefaultRequestHeaders.UserAgent.TryParseAdd(userAgent);
        return client;
    }

    /// <summary>
    /// GETs <paramref name="url"/> (headers read, body left to the caller), following up to the bound of redirects.
    /// <paramref name="given"/> is the URL as the torrent names it (a web seed's query string is the torrent's, not the
    /// one we add for BEP 17). Throws <see cref="RequestRefusedException"/> when a rule refuses a hop (nothing is sent
    /// to it), <see cref="HttpRequestException"/> when a host cannot be resolved or reached.
    /// </summary>
    public async Task<HttpResponseMessage> GetAsync(Uri url, Uri given, HttpRequestPurpose purpose, Action<HttpRequestMessage>? prepare,
        CancellationToken cancellationToken)
    {
        bool guarded = _enabled();
        AddressScope? previous = null;
        Uri current = url;
        for (int hop = 0; ; hop++)
        {
            HttpClient client = _open;
            if (guarded)
            {
                AddressScope scope = await ClassifyAsync(current, cancellationToken).ConfigureAwait(false);
                string? why = previous is { } from ? SsrfRules.WhyRefusedRedirect(from, scope, current) : SsrfRules.WhyRefused(purpose, given, scope);
                if (why is not null) throw new RequestRefusedException(why);
                client = _scoped[(int)scope];
                previous = scope;
            }
            HttpResponseMessage response;
            using (var message = new HttpRequestMessage(HttpMethod.Get, current))
            {
                prepare?.Invoke(message);
                try
                {
                    response = await client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
                }
                catch (HttpRequestException e) when (Refusal(e) is { } refused)
                {
                    throw refused;
                }
            }
            if (hop >= _maxRedirects || RedirectTarget(current, response) is not { } next) return response;
            response.Dispose();
            current = next;
        }
    }

    /// <summary>Where a redirect leads, or null when <paramref name="response"/> is not one we follow (as HttpClient: never from https to http).</summary>
    private static Uri? RedirectTarget(Uri current, HttpResponseMessage response)
    {
        if (response.StatusCode is not (HttpStatusCode.MovedPermanently or HttpStatusCode.Found or HttpStatusCode.SeeOther
            or HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect)) return null;
        if (response.Headers.Location is not { } location) return null;
        Uri target = location.IsAbsoluteUri ? location : new Uri(current, location);
        if (target.Scheme != Uri.UriSchemeHttp && target.Scheme != Uri.UriSchemeHttps) return null;
        if (current.Scheme == Uri.UriSchemeHttps && target.Scheme == Uri.UriSchemeHttp) return null;
        return target;
    }

    /// <summary>The scope of the first address <paramref name="url"/>'s host resolves to (the one a connection tries first).</summary>
    private async ValueTask<AddressScope> ClassifyAsync(Uri url, CancellationToken token)
    {
        IPAddress[] addresses = await ResolveAsync(url.DnsSafeHost, token).ConfigureAwait(false);
        return _classifier.Classify(new IPEndPoint(addresses[0], url.Port));
    }

    private static async ValueTask<IPAddress[]> ResolveAsync(string host, CancellationToken token)
    {
        if (IPAddress.TryParse(host.Trim('[', ']'), out IPAddress? literal)) return [literal];
        IPAddress[] addresses;
        try
        {
            addresses = await Dns.GetHostAddressesAsync(host, token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or ArgumentException)
        {
            // A name the resolver refuses (too long, malformed) is a connection failure like a name that does not exist.
            throw new HttpRequestException($"cannot resolve {host}: {e.Message}", e);
        }
        return addresses.Length > 0 ? addresses : throw new HttpRequestException($"cannot resolve {host}: no address");
    }

    /// <summary>A scoped pool's connection: only to an address of <paramref name="scope"/>, whatever DNS says now.</summary>
    private async ValueTask<Stream> ConnectAsync(AddressScope scope, SocketsHttpConnectionContext context, CancellationToken token)
    {
        DnsEndPoint target = context.DnsEndPoint;
        IPAddress[] addresses = await ResolveAsync(target.Host, token).ConfigureAwait(false);
        Exception? failure = null;
        AddressScope? elsewhere = null;
        foreach (IPAddress address in addresses)
        {
            var endPoint = new IPEndPoint(address, target.Port);
            AddressScope actual = _classifier.Classify(endPoint);
            if (actual != scope)
            {
                elsewhere ??= actual;
                continue;
            }
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(endPoint, token).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException e)
            {
                socket.Dispose();
                failure = e;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
        if (failure is not null) throw failure;
        throw new RequestRefusedException(
            $"refused (SSRF mitigation): {target.Host} resolved to a {scope.ToString().ToLowerInvariant()} address when checked and to a {elsewhere?.ToString().ToLowerInvariant()} one when connecting");
    }

    private static RequestRefusedException? Refusal(Exception e)
    {
        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
            if (inner is RequestRefusedException refused) return refused;
        return null;
    }

    public void Dispose()
    {
        _open.Dispose();
        foreach (HttpClient client in _scoped) client.Dispose();
    }
}
