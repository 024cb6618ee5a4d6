using System.Buffers;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Shoal.Metainfo;
using Shoal.Trackers;
using Shoal.Trackers.Server;

namespace Shoal.Cli.Tracker;

/// <summary>
/// The built-in tracker: one <see cref="SwarmRegistry"/> served over HTTP (Kestrel, GET /announce and /scrape)
/// and UDP (BEP 15). Malformed requests get a bencoded failure reason with HTTP 200, as opentracker does, so
/// every client shows the reason; nothing a request holds can stop the host.
/// </summary>
internal sealed class TrackerHost : IAsyncDisposable
{
    private readonly WebApplication _web;
    private readonly UdpTrackerServer _udp;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _expiry;

    private TrackerHost(WebApplication web, UdpTrackerServer udp, SwarmRegistry registry, IPEndPoint http)
    {
        _web = web;
        _udp = udp;
        Registry = registry;
        HttpEndPoint = http;
        UdpEndPoint = udp.LocalEndPoint!;
        _expiry = ExpireLoopAsync();
    }

    /// <summary>The tracker's state.</summary>
    public SwarmRegistry Registry { get; }

    /// <summary>Where HTTP is served (the real port).</summary>
    public IPEndPoint HttpEndPoint { get; }

    /// <summary>Where UDP is served (the real port).</summary>
    public IPEndPoint UdpEndPoint { get; }

    /// <summary>UDP packets whose handling threw (zero unless there is a bug).</summary>
    public long UdpPacketErrors => _udp.PacketErrors;

    /// <summary>The HTTP announce URL.</summary>
    public Uri HttpAnnounceUrl => new($"http://{Host(HttpEndPoint)}/announce");

    /// <summary>The UDP announce URL.</summary>
    public Uri UdpAnnounceUrl => new($"udp://{Host(UdpEndPoint)}/announce");

    /// <summary>Starts both listeners.</summary>
    /// <exception cref="CliException">A port is in use or the address cannot be bound.</exception>
    public static async Task<TrackerHost> StartAsync(TrackerHostOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var registry = new SwarmRegistry(options.Registry with { AllowList = options.AllowList ?? options.Registry.AllowList });
        AddressRateLimiter? limiter = options.MaxRequestsPerSecond > 0
            ? new AddressRateLimiter(options.MaxRequestsPerSecond, Math.Max(10, options.MaxRequestsPerSecond * 2))
            : null;

        UdpTrackerServer udp;
        try
        {
            udp = UdpTrackerServer.Start(new IPEndPoint(options.Bind, options.UdpPort), registry, limiter, receiveLoops: options.UdpReceiveLoops);
        }
        catch (SocketException e)
        {
            throw new CliException($"cannot serve UDP on {Host(new IPEndPoint(options.Bind, options.UdpPort))}: {Reason(e)}", ExitCodes.Failure, e);
        }

        WebApplication? web = null;
        try
        {
            var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
            {
                // No file watchers on appsettings files: a tracker needs no configuration files.
                Args = ["--hostBuilder:reloadConfigOnChange=false"],
                ContentRootPath = AppContext.BaseDirectory,
            });
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(kestrel =>
            {
                kestrel.AddServerHeader = false;
                kestrel.Limits.MaxConcurrentConnections = 10_000;
                kestrel.Limits.MaxRequestBodySize = 0;
                kestrel.Limits.MaxRequestLineSize = HttpTrackerProtocol.MaxQueryLength + 256;
                kestrel.Limits.MaxRequestHeadersTotalSize = 16 * 1024;
                // Both, since Kestrel starts the header clock only at a connection's first byte: before it the
                // keep-alive timeout applies (130 s by default), after it the header timeout (30 s by default). A
                // client that sends nothing, or half a request, is closed within a few seconds either way.
                kestrel.Limits.RequestHeadersTimeout = options.RequestHeadersTimeout;
                kestrel.Limits.KeepAliveTimeout = options.RequestHeadersTimeout;
                var perAddress = new ConnectionsPerAddress(options.MaxHttpConnectionsPerAddress);
                kestrel.Listen(options.Bind, options.HttpPort, listen => listen.Use(perAddress.Wrap));
            });
            web = builder.Build();
            var handler = new HttpHandler(registry, limiter);
            web.Run(handler.HandleAsync);
            await web.StartAsync(cancellationToken).ConfigureAwait(false);

            string address = web.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            var bound = new IPEndPoint(options.Bind, new Uri(address).Port);
            return new TrackerHost(web, udp, registry, bound);
        }
        catch (Exception e) when (e is IOException or AddressInUseException or SocketException)
        {
            if (web is not null) await web.DisposeAsync().ConfigureAwait(false);
            await udp.DisposeAsync().ConfigureAwait(false);
            string reason = e is AddressInUseException || e.InnerException is AddressInUseException ? "the port is already in use" : e.Message;
            throw new CliException($"cannot serve HTTP on {Host(new IPEndPoint(options.Bind, options.HttpPort))}: {reason}", ExitCodes.Failure, e);
        }
        catch
        {
            if (web is not null) await web.DisposeAsync().ConfigureAwait(false);
            await udp.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Stops both listeners.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _expiry.ConfigureAwait(false);
        using (var grace = new CancellationTokenSource(TimeSpan.FromSeconds(2)))
        {
            await _web.StopAsync(grace.Token).ConfigureAwait(false);
        }
        await _web.DisposeAsync().ConfigureAwait(false);
        await _udp.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }

    /// <summary>"HOST:PORT" with brackets around IPv6.</summary>
    internal static string Host(IPEndPoint endpoint) =>
        endpoint.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{endpoint.Address}]:{endpoint.Port}" : $"{endpoint.Address}:{endpoint.Port}";

    private static string Reason(SocketException e) => e.SocketErrorCode switch
    {
        SocketError.AddressAlreadyInUse => "the port is already in use",
        SocketError.AddressNotAvailable => "that address is not on this machine",
        SocketError.AccessDenied => "permission denied (ports below 1024 need privileges)",
        _ => e.Message,
    };

    private async Task ExpireLoopAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(1));
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                Registry.RemoveExpired(); // the rate limiter bounds itself (LRU): nothing to sweep there
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>The HTTP side: routing by path, no framework routing on the hot path.</summary>
    private sealed class HttpHandler(SwarmRegistry registry, AddressRateLimiter? limiter)
    {
        public async Task HandleAsync(HttpContext context)
        {
            HttpRequest request = context.Request;
            HttpResponse response = context.Response;
            var body = new ArrayBufferWriter<byte>(256);
            IPAddress remote = context.Connection.RemoteIpAddress ?? IPAddress.None;
            string path = request.Path.Value ?? "";
            if (path is not ("/announce" or "/scrape"))
            {
                response.StatusCode = StatusCodes.Status404NotFound;
                HttpTrackerProtocol.WriteFailure(body, "unknown path: use /announce or /scrape");
            }
            else if (!HttpMethods.IsGet(request.Method))
            {
                response.StatusCode = StatusCodes.Status405MethodNotAllowed;
                HttpTrackerProtocol.WriteFailure(body, "use GET");
            }
            else if (limiter is not null && !limiter.TryAcquire(remote))
            {
                HttpTrackerProtocol.WriteFailure(body, "too many requests from your address; slow down");
            }
            else if (path == "/announce")
            {
                Announce(request.QueryString.Value, remote, body);
            }
            else
            {
                Scrape(request.QueryString.Value, body);
            }
            response.ContentType = "text/plain";
            response.ContentLength = body.WrittenCount;
            await response.Body.WriteAsync(body.WrittenMemory, context.RequestAborted).ConfigureAwait(false);
        }

        private void Announce(string? query, IPAddress remote, ArrayBufferWriter<byte> body)
        {
            HttpAnnounceQuery parsed;
            try
            {
                parsed = HttpTrackerProtocol.ParseAnnounce(query, remote);
            }
            catch (TrackerFormatException e)
            {
                HttpTrackerProtocol.WriteFailure(body, e.Message);
                return;
            }
            SwarmPeer[] peers = ArrayPool<SwarmPeer>.Shared.Rent(registry.Options.MaxNumWant);
            try
            {
                AnnounceOutcome outcome = registry.Announce(parsed.Announce, PeerFamilies.Both, peers.AsSpan(0, registry.Options.MaxNumWant));
                if (outcome.FailureReason is { } reason)
                {
                    HttpTrackerProtocol.WriteFailure(body, reason);
                    return;
                }
                HttpTrackerProtocol.WriteAnnounceResponse(body, outcome, peers.AsSpan(0, outcome.PeerCount), parsed.Compact, parsed.NoPeerId);
            }
            finally
            {
                ArrayPool<SwarmPeer>.Shared.Return(peers, clearArray: true);
            }
        }

        private void Scrape(string? query, ArrayBufferWriter<byte> body)
        {
            IReadOnlyList<InfoHash> hashes;
            try
            {
                hashes = HttpTrackerProtocol.ParseScrape(query);
            }
            catch (TrackerFormatException e)
            {
                HttpTrackerProtocol.WriteFailure(body, e.Message);
                return;
            }
            var files = new List<KeyValuePair<InfoHash, ScrapeEntry>>(hashes.Count);
            foreach (InfoHash hash in hashes) files.Add(new(hash, registry.Scrape(hash)));
            HttpTrackerProtocol.WriteScrapeResponse(body, files);
        }
    }
}
