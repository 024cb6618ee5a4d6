using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Shoal.Tests.WebSeeds;

/// <summary>How the test web server misbehaves.</summary>
public enum ServerFault
{
    /// <summary>Serves every range truthfully.</summary>
    None,
    /// <summary>Serves the right headers with wrong bytes (a lying mirror).</summary>
    CorruptData,
    /// <summary>Answers 500.</summary>
    Error,
    /// <summary>Answers 503 with Retry-After: 1.</summary>
    Busy,
    /// <summary>Ignores Range and sends the whole file with 200.</summary>
    IgnoreRanges,
    /// <summary>Promises the range, then closes the connection after half of it.</summary>
    ShortBody,
    /// <summary>Sends the headers, then nothing (until the client gives up).</summary>
    Stall,
    /// <summary>Answers 206 with a Content-Range that is not the range asked for.</summary>
    WrongRange,
}

/// <summary>
/// A real HTTP/1.1 server (Kestrel) on 127.0.0.1 holding files in memory and answering ranged GETs as a web server
/// does (206 with Content-Range), with BEP 17's <c>?info_hash=&amp;piece=</c> too, and faults to switch on: the web seed
/// tests' mirror.
/// </summary>
internal sealed class RangeHttpServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, byte[]> _files = new(StringComparer.Ordinal);
    private byte[]? _pieceStream;
    private int _pieceLength;
    private int _requests;
    private int _inFlight;
    private int _maxInFlight;
    private int _failFirst;

    private RangeHttpServer(WebApplication app) => _app = app;

    /// <summary>The server's root, "http://127.0.0.1:PORT/".</summary>
    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>What the server does wrong, from now on.</summary>
    public volatile ServerFault Fault;

    /// <summary>When set, every request is answered 302 with this base + the request's path and query (a redirecting mirror).</summary>
    public Uri? RedirectTo { get; set; }

    /// <summary>Pause before each answer (a slow server).</summary>
    public TimeSpan Delay { get; set; }

    /// <summary>Bytes per second the body is sent at; 0 is as fast as the socket goes.</summary>
    public int BytesPerSecond { get; set; }

    /// <summary>GET requests answered (or failed) so far.</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>Most requests served at the same time so far (connections in use at once).</summary>
    public int MaxConcurrentRequests => Volatile.Read(ref _maxInFlight);

    /// <summary>Every request's path and Range header, in order.</summary>
    public ConcurrentQueue<string> Log { get; } = new();

    /// <summary>The next this-many requests get a 500, then the server serves again.</summary>
    public void FailNext(int count) => Volatile.Write(ref _failFirst, count);

    public static async Task<RangeHttpServer> StartAsync()
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        WebApplication app = builder.Build();
        var server = new RangeHttpServer(app);
        app.Run(server.HandleAsync);
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.BaseUrl = new Uri(address.TrimEnd('/') + "/");
        return server;
    }

    /// <summary>Serves <paramref name="content"/> at <paramref name="path"/> (unescaped, '/'-separated, no leading '/').</summary>
    public void AddFile(string path, byte[] content) => _files["/" + path] = content;

    /// <summary>Serves every file under <paramref name="folder"/> at <paramref name="prefix"/>/relative path.</summary>
    public void AddFolder(string prefix, string folder)
    {
        foreach (string file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
            AddFile(prefix + "/" + Path.GetRelativePath(folder, file).Replace(Path.DirectorySeparatorChar, '/'), File.ReadAllBytes(file));
    }

    /// <summary>Answers BEP 17 piece requests at /seed from this byte stream (the torrent's files back to back).</summary>
    public void ServePieces(byte[] stream, int pieceLength)
    {
        _pieceStream = stream;
        _pieceLength = pieceLength;
    }

    /// <summary>The URL of a path on this server, segments escaped.</summary>
    public string UrlOf(string path) => BaseUrl + string.Join('/', path.Split('/').Select(Uri.EscapeDataString));

    private async Task HandleAsync(HttpContext context)
    {
        int inFlight = Interlocked.Increment(ref _inFlight);
        int max;
        while (inFlight > (max = Volatile.Read(ref _maxInFlight)) && Interlocked.CompareExchange(ref _maxInFlight, inFlight, max) != max) { }
        try
        {
            await ServeAsync(context);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private async Task ServeAsync(HttpContext context)
    {
        HttpRequest request = context.Request;
        HttpResponse response = context.Response;
        Interlocked.Increment(ref _requests);
        string range = request.Headers.Range.ToString();
        Log.Enqueue($"{request.Path}{request.QueryString} {range}".TrimEnd());
        if (RedirectTo is { } redirect)
        {
            response.StatusCode = 302;
            response.Headers.Location = redirect.GetLeftPart(UriPartial.Authority) + request.Path + request.QueryString;
            return;
        }
        if (Delay > TimeSpan.Zero) await Task.Delay(Delay, context.RequestAborted);
        if (Interlocked.Decrement(ref _failFirst) >= 0)
        {
            response.StatusCode = 500;
            return;
        }
        Interlocked.Exchange(ref _failFirst, 0);
        ServerFault fault = Fault;
        switch (fault)
        {
            case ServerFault.Error:
                response.StatusCode = 500;
                return;
            case ServerFault.Busy:
                response.StatusCode = 503;
                response.Headers.RetryAfter = "1";
                return;
        }

        byte[] body;
        long from, to, total;
        if (request.Path == "/seed" && _pieceStream is { } stream)
        {
            // BEP 17: ?info_hash=..&piece=N[&ranges=A-B]
            int piece = int.Parse(request.Query["piece"].ToString(), System.Globalization.CultureInfo.InvariantCulture);
            long start = (long)piece * _pieceLength;
            int size = (int)Math.Min(_pieceLength, stream.Length - start);
            (long a, long b) = (0, size - 1);
            if (request.Query["ranges"].ToString() is { Length: > 0 } ranges)
            {
                string[] parts = ranges.Split('-');
                (a, b) = (long.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture), long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture));
            }
            response.StatusCode = 200;
            await SendAsync(context, stream, start + a, start + b, fault);
            return;
        }
        if (!_files.TryGetValue(request.Path.Value ?? "", out byte[]? file))
        {
            response.StatusCode = 404;
            return;
        }
        body = file;
        total = body.Length;
        if (fault == ServerFault.IgnoreRanges || string.IsNullOrEmpty(range) || !TryParseRange(range, total, out from, out to))
        {
            response.StatusCode = 200;
            await SendAsync(context, body, 0, total - 1, fault);
            return;
        }
        response.StatusCode = 206;
        long shownFrom = fault == ServerFault.WrongRange ? from + 1 : from;
        response.Headers.ContentRange = $"bytes {shownFrom}-{to}/{total}";
        await SendAsync(context, body, from, to, fault);
    }

    private static bool TryParseRange(string header, long total, out long from, out long to)
    {
        from = to = 0;
        if (!header.StartsWith("bytes=", StringComparison.Ordinal) || header.Contains(',')) return false;
        string[] parts = header["bytes=".Length..].Split('-');
        if (parts.Length != 2 || !long.TryParse(parts[0], out from)) return false;
        to = parts[1].Length == 0 ? total - 1 : long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
        to = Math.Min(to, total - 1);
        return from <= to;
    }

    private async Task SendAsync(HttpContext context, byte[] data, long from, long to, ServerFault fault)
    {
        long length = to - from + 1;
        context.Response.ContentLength = length;
        context.Response.ContentType = "application/octet-stream";
        byte[] slice = data.AsSpan((int)from, (int)length).ToArray();
        if (fault == ServerFault.CorruptData)
            for (int i = 0; i < slice.Length; i += 1000) slice[i] ^= 0x5A;
        if (fault == ServerFault.Stall)
        {
            await context.Response.StartAsync(context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            try { await Task.Delay(Timeout.Infinite, context.RequestAborted); }
            catch (OperationCanceledException) { }
            return;
        }
        int sendable = fault == ServerFault.ShortBody ? slice.Length / 2 : slice.Length;
        int chunk = BytesPerSecond > 0 ? Math.Max(1, BytesPerSecond / 20) : 64 * 1024;
        for (int offset = 0; offset < sendable; offset += chunk)
        {
            int n = Math.Min(chunk, sendable - offset);
            await context.Response.Body.WriteAsync(slice.AsMemory(offset, n), context.RequestAborted);
            if (BytesPerSecond > 0)
            {
                await context.Response.Body.FlushAsync(context.RequestAborted);
                await Task.Delay(50, context.RequestAborted);
            }
        }
        if (fault == ServerFault.ShortBody)
        {
            // Let the half body reach the client before the connection goes (else it looks like a reset, not a short body).
            await context.Response.Body.FlushAsync(context.RequestAborted);
            await Task.Delay(300, context.RequestAborted);
            context.Abort();
        }
    }

    /// <summary>A one-line summary for assertion messages.</summary>
    public override string ToString()
    {
        var text = new StringBuilder($"{Requests} requests");
        foreach (string line in Log.Take(5)) text.Append("; ").Append(line);
        return text.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
