using System.Buffers;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Shoal.Daemon.Service;

namespace Shoal.Daemon.Http;

/// <summary>
/// GET /stream/{infohash or id}/{file index}: a torrent's file over HTTP with byte ranges, served while it downloads.
/// Each chunk is written as soon as its pieces verify (the engine fetches them first), so a player can start a file
/// that is a few percent downloaded and seek in it. Guarded like the API (<see cref="NativeAuthMiddleware"/>).
/// </summary>
internal static class StreamEndpoint
{
    /// <summary>Bytes read and written at a time: a few pieces' worth, so the first bytes go out early.</summary>
    private const int ChunkBytes = 256 * 1024;

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapMethods("/stream/{id}/{file:int}", [HttpMethods.Get, HttpMethods.Head], ServeAsync);
    }

    private static async Task ServeAsync(HttpContext http, TorrentService service, string id, int file)
    {
        StreamedFile stream = service.OpenStream(id, file);
        HttpResponse response = http.Response;
        response.Headers.AcceptRanges = "bytes";
        response.ContentType = ContentType(stream.Path);
        (ByteRange? range, bool partial) = ByteRange.Parse(http.Request.Headers.Range, stream.Length);
        if (range is not { } r)
        {
            if (stream.Length == 0)
            {
                response.ContentLength = 0;
                return;
            }
            response.StatusCode = StatusCodes.Status416RangeNotSatisfiable;
            response.Headers.ContentRange = $"bytes */{stream.Length}";
            return;
        }
        response.ContentLength = r.Length;
        if (partial)
        {
            response.StatusCode = StatusCodes.Status206PartialContent;
            response.Headers.ContentRange = string.Create(CultureInfo.InvariantCulture, $"bytes {r.Start}-{r.End}/{stream.Length}");
        }
        if (HttpMethods.IsHead(http.Request.Method)) return;

        CancellationToken aborted = http.RequestAborted;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            long offset = r.Start, left = r.Length;
            while (left > 0)
            {
                int want = (int)Math.Min(left, ChunkBytes);
                int read;
                try
                {
                    read = await stream.ReadAsync(offset, buffer.AsMemory(0, want), aborted).ConfigureAwait(false);
                }
                catch (ServiceException) when (response.HasStarted)
                {
                    // The torrent stopped mid-stream: the length promised cannot be kept; end the connection.
                    http.Abort();
                    return;
                }
                if (read == 0) break;
                await response.Body.WriteAsync(buffer.AsMemory(0, read), aborted).ConfigureAwait(false);
                offset += read;
                left -= read;
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The player went away (it seeks by closing and asking for another range).
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>A media type from the file's extension, for players that look at it; anything else is bytes.</summary>
    private static string ContentType(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".mp4" or ".m4v" => "video/mp4",
        ".mkv" => "video/x-matroska",
        ".webm" => "video/webm",
        ".avi" => "video/x-msvideo",
        ".mov" => "video/quicktime",
        ".mp3" => "audio/mpeg",
        ".flac" => "audio/flac",
        ".ogg" or ".oga" => "audio/ogg",
        ".m4a" => "audio/mp4",
        ".wav" => "audio/wav",
        ".txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    };
}
