using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Net.Http.Headers;

namespace Shoal.Daemon.Web;

/// <summary>
/// Serves the web page: <c>/</c> (revalidated on every load) and its assets under <c>/ui/{version}/</c> (kept by the
/// browser for a year), with a strict Content-Security-Policy: scripts, styles, images, media and connections only
/// from the daemon itself, no inline script, no framing, no plugins.
/// </summary>
internal static class WebPageEndpoints
{
    /// <summary>
    /// The page's policy. 'self' only; styles set from script through the CSSOM (element.style) are not inline
    /// styles in CSP's sense, so 'unsafe-inline' is not needed anywhere. Media come from /stream (the player).
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; connect-src 'self'; " +
        "worker-src 'self'; manifest-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    private const string Immutable = "public, max-age=31536000, immutable";

    public static void Map(IEndpointRouteBuilder app, WebAssets assets)
    {
        app.MapMethods("/", [HttpMethods.Get, HttpMethods.Head], (HttpContext context) => Send(context, assets.Page, "no-cache"));
        app.MapMethods("/ui/{version}/{**path}", [HttpMethods.Get, HttpMethods.Head], (HttpContext context, string version, string path) =>
        {
            if (assets.Find(path) is not { } asset)
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }
            // A page of an older build asking for an asset by its old version gets today's file, not kept.
            return Send(context, asset, version == assets.Version ? Immutable : "no-cache");
        });
    }

    private static async Task Send(HttpContext context, WebAsset asset, string cacheControl)
    {
        HttpResponse response = context.Response;
        IHeaderDictionary headers = response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
        headers["Cross-Origin-Resource-Policy"] = "same-origin";
        headers.CacheControl = cacheControl;
        headers.ETag = asset.ETag;
        headers.Vary = "Accept-Encoding";
        if (context.Request.Headers.IfNoneMatch.Any(v => v is not null && v.Split(',').Any(t => t.Trim() == asset.ETag || t.Trim() == "*")))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }
        string accepted = context.Request.Headers.AcceptEncoding.ToString();
        byte[] body = asset.Bytes;
        if (asset.Brotli is { } br && Accepts(accepted, "br"))
        {
            body = br;
            headers.ContentEncoding = "br";
        }
        else if (asset.Gzip is { } gz && Accepts(accepted, "gzip"))
        {
            body = gz;
            headers.ContentEncoding = "gzip";
        }
        response.ContentType = asset.ContentType;
        response.ContentLength = body.Length;
        if (HttpMethods.IsHead(context.Request.Method)) return;
        await response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
    }

    private static bool Accepts(string acceptEncoding, string coding)
    {
        if (acceptEncoding.Length == 0) return false;
        foreach (string part in acceptEncoding.Split(','))
        {
            if (!StringWithQualityHeaderValue.TryParse(part.Trim(), out StringWithQualityHeaderValue? value)) continue;
            if (value.Value.Equals(coding, StringComparison.OrdinalIgnoreCase) && (value.Quality ?? 1) > 0) return true;
        }
        return false;
    }
}
