using System.IO.Compression;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.ResponseCompression;
using Microsoft.Extensions.DependencyInjection;

namespace Shoal.Daemon.Http;

/// <summary>
/// Brotli or gzip for the answers that grow with the number of torrents: the native torrent list, the qBittorrent
/// dialect's lists and sync, and Transmission's RPC. At 10,000 torrents the native list is 6 MiB of JSON, about a
/// tenth of that compressed: what a phone on Wi-Fi or a remote GUI over the internet waits for.
/// </summary>
/// <remarks>
/// Only these paths are compressed, never the rest of the API: an answer that carries a secret (the session's CSRF
/// token, a login cookie) next to text an attacker chose must not be compressed, or its compressed length leaks the
/// secret (BREACH). The lists hold torrents' names and states and no secret. Compression runs at Brotli's and gzip's
/// fastest levels: a 6 MiB list costs tens of milliseconds of CPU, where the best levels cost seconds.
/// </remarks>
internal static class ListCompression
{
    /// <summary>Registers the compressors (fastest levels) and the MIME types of the lists.</summary>
    public static void AddListCompression(this IServiceCollection services)
    {
        services.AddResponseCompression(options =>
        {
            options.EnableForHttps = true; // safe for these paths only: see the remarks
            options.MimeTypes = ["application/json"];
            options.Providers.Add<BrotliCompressionProvider>();
            options.Providers.Add<GzipCompressionProvider>();
        });
        services.Configure<BrotliCompressionProviderOptions>(o => o.Level = CompressionLevel.Fastest);
        services.Configure<GzipCompressionProviderOptions>(o => o.Level = CompressionLevel.Fastest);
    }

    /// <summary>Compresses the answers of <see cref="IsList"/> paths, and nothing else.</summary>
    public static void UseListCompression(this IApplicationBuilder app) =>
        app.UseWhen(context => IsList(context.Request), branch => branch.UseResponseCompression());

    /// <summary>The requests whose answers grow with the number of torrents and carry no secret.</summary>
    public static bool IsList(HttpRequest request)
    {
        PathString path = request.Path;
        if (HttpMethods.IsGet(request.Method) && (path.Equals("/api/v1/torrents") || path.Equals("/api/v1/torrents/"))) return true;
        if (path.Equals("/api/v2/torrents/info") || path.Equals("/api/v2/sync/maindata")) return true;
        return HttpMethods.IsPost(request.Method) && path.StartsWithSegments("/transmission/rpc", StringComparison.Ordinal);
    }
}
