using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Shoal.Daemon.Service;

namespace Shoal.Daemon.Http;

/// <summary>
/// GET /api/v1/events: the daemon's event stream as Server-Sent Events. Each event is
/// <c>id: EPOCH:SEQUENCE</c>, <c>event: KIND</c> (snake_case), <c>data: JSON</c>; a comment line every
/// <see cref="Heartbeat"/> keeps proxies from closing an idle stream. A browser's EventSource reconnects by itself
/// with Last-Event-ID and continues where it stopped, or gets a <c>resync</c> event when it was away too long or the
/// daemon restarted.
/// </summary>
internal static class EventStreamEndpoint
{
    /// <summary>How often an idle stream gets a keep-alive comment.</summary>
    public static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(15);

    public static async Task RunAsync(HttpContext context, TorrentService service, TimeProvider time)
    {
        CancellationToken aborted = context.RequestAborted;
        EventHub hub = service.Events;
        long? after = ParseLastEventId(context.Request.Headers["Last-Event-ID"].ToString() is { Length: > 0 } header ? header
            : context.Request.Query["last_event_id"].ToString(), hub.Epoch);
        context.Response.ContentType = "text/event-stream; charset=utf-8";
        context.Response.Headers.CacheControl = "no-cache";
        context.Response.Headers["X-Accel-Buffering"] = "no";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        Stream body = context.Response.Body;
        await body.WriteAsync(Encoding.UTF8.GetBytes($"retry: 3000\n: shoal events {hub.Epoch}\n\n"), aborted).ConfigureAwait(false);
        await body.FlushAsync(aborted).ConfigureAwait(false);

        await using IAsyncEnumerator<DaemonEvent> events = hub.ReadAsync(after, aborted).GetAsyncEnumerator(aborted);
        Task<bool>? next = null;
        try
        {
            while (!aborted.IsCancellationRequested)
            {
                next ??= events.MoveNextAsync().AsTask();
                Task beat = Task.Delay(Heartbeat, time, aborted);
                if (await Task.WhenAny(next, beat).ConfigureAwait(false) != next)
                {
                    await body.WriteAsync(": keep-alive\n\n"u8.ToArray(), aborted).ConfigureAwait(false);
                    await body.FlushAsync(aborted).ConfigureAwait(false);
                    continue;
                }
                if (!await next.ConfigureAwait(false)) break;
                next = null;
                await WriteAsync(body, hub.Epoch, events.Current, aborted).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
        }
        catch (IOException)
        {
            // the client went away mid-write
        }
        finally
        {
            if (next is not null)
            {
                try { await next.ConfigureAwait(false); } catch (OperationCanceledException) { }
            }
        }
    }

    private static async Task WriteAsync(Stream body, string epoch, DaemonEvent e, CancellationToken cancellationToken)
    {
        string json = JsonSerializer.Serialize(e, ServiceJson.Default.DaemonEvent);
        string frame = string.Create(CultureInfo.InvariantCulture,
            $"id: {epoch}:{e.Sequence}\nevent: {ServiceJson.Name(e.Kind)}\ndata: {json}\n\n");
        await body.WriteAsync(Encoding.UTF8.GetBytes(frame), cancellationToken).ConfigureAwait(false);
        await body.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The sequence to continue after; -1 (forces a resync) for an id of another daemon run; null for none.</summary>
    internal static long? ParseLastEventId(string? value, string epoch)
    {
        if (string.IsNullOrEmpty(value)) return null;
        int colon = value.LastIndexOf(':');
        if (colon <= 0 || value[..colon] != epoch) return -1;
        return long.TryParse(value.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out long sequence) ? sequence : -1;
    }
}
