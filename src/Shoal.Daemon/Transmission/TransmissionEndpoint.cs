using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Shoal.Daemon.Http;
using Shoal.Daemon.Security;

namespace Shoal.Daemon.Transmission;

/// <summary>
/// Transmission's RPC at /transmission/rpc (rpc-spec.md 2): HTTP Basic authentication when the daemon has a
/// password, the X-Transmission-Session-Id handshake (409 with the id) against CSRF, then one call in the classic
/// form or JSON-RPC 2.0 (a single call, a batch, or notifications). Every refusal is an answer in the caller's own
/// form; nothing a client sends makes a 500.
/// </summary>
internal static class TransmissionEndpoint
{
    public const string Path = "/transmission/rpc";

    public const string SessionIdHeader = "X-Transmission-Session-Id";

    private static readonly JsonDocumentOptions ParseOptions = new() { MaxDepth = 64 };

    public static void Map(IEndpointRouteBuilder app)
    {
        // Routing also matches "/transmission/rpc/", where transmission-remote posts.
        app.Map(Path, HandleAsync);
    }

    private static async Task HandleAsync(HttpContext context, TransmissionRpc rpc, DaemonSecurity security, ILoggerFactory logs)
    {
        HttpResponse response = context.Response;
        if (security.PasswordRequired && !await AuthenticateAsync(context, security).ConfigureAwait(false)) return;
        if (!DaemonSecurity.TokensEqual(context.Request.Headers[SessionIdHeader].ToString(), rpc.SessionId))
        {
            response.StatusCode = StatusCodes.Status409Conflict;
            response.Headers[SessionIdHeader] = rpc.SessionId;
            response.Headers["X-Transmission-Rpc-Version"] = SessionMethods.RpcVersionSemver;
            await WriteHtmlAsync(response, "409: Conflict",
                $"Your request had an invalid session-id header. Send the X-Transmission-Session-Id header of this answer with every request.</p><p><code>{SessionIdHeader}: {rpc.SessionId}</code>").ConfigureAwait(false);
            return;
        }
        if (!HttpMethods.IsPost(context.Request.Method))
        {
            response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            response.Headers.Allow = "POST";
            await WriteHtmlAsync(response, "405: Method Not Allowed", "The RPC takes a POST with a JSON body.").ConfigureAwait(false);
            return;
        }

        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(context.Request.Body, ParseOptions, context.RequestAborted).ConfigureAwait(false);
        }
        catch (JsonException ex)
        {
            await WriteAsync(response, w => JsonRpcError(w, default, RpcErrorCode.ParseError, ex.Message)).ConfigureAwait(false);
            return;
        }
        catch (BadHttpRequestException ex)
        {
            response.StatusCode = ex.StatusCode;
            await WriteHtmlAsync(response, $"{ex.StatusCode}: Bad Request", WebUtility.HtmlEncode(ex.Message)).ConfigureAwait(false);
            return;
        }
        using (document)
        {
            var calls = new CallRunner(rpc, logs.CreateLogger("Shoal.Transmission"), context.RequestAborted);
            JsonElement root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Array)
            {
                if (root.GetArrayLength() == 0)
                {
                    await WriteAsync(response, w => JsonRpcError(w, default, RpcErrorCode.InvalidRequest, "a batch must hold at least one call")).ConfigureAwait(false);
                    return;
                }
                var answers = new List<Action<Utf8JsonWriter>>();
                foreach (JsonElement call in root.EnumerateArray())
                {
                    if (await calls.RunAsync(call, inBatch: true).ConfigureAwait(false) is { } answer) answers.Add(answer);
                }
                if (answers.Count == 0)
                {
                    response.StatusCode = StatusCodes.Status204NoContent;
                    return;
                }
                await WriteAsync(response, w =>
                {
                    w.WriteStartArray();
                    foreach (Action<Utf8JsonWriter> answer in answers) answer(w);
                    w.WriteEndArray();
                }).ConfigureAwait(false);
                return;
            }
            Action<Utf8JsonWriter>? single = await calls.RunAsync(root, inBatch: false).ConfigureAwait(false);
            if (single is null)
            {
                response.StatusCode = StatusCodes.Status204NoContent; // a JSON-RPC notification
                return;
            }
            await WriteAsync(response, single).ConfigureAwait(false);
        }
    }

    /// <summary>HTTP Basic with the daemon's password (any user name), counted by the failed-login throttle.</summary>
    private static async Task<bool> AuthenticateAsync(HttpContext context, DaemonSecurity security)
    {
        HttpResponse response = context.Response;
        IPAddress remote = NativeAuthMiddleware.Remote(context);
        string? password = BasicAuthorization.Password(context.Request.Headers.Authorization.ToString());
        LoginOutcome outcome = password is null ? LoginOutcome.Refused : security.CheckPassword(remote, password);
        if (outcome == LoginOutcome.Accepted) return true;
        if (outcome == LoginOutcome.Throttled)
        {
            response.StatusCode = StatusCodes.Status403Forbidden;
            response.Headers.RetryAfter = ((int)Math.Ceiling(security.Throttle.RetryAfter(remote).TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            await WriteHtmlAsync(response, "403: Forbidden", "Too many unsuccessful login attempts from this address: wait and try again.").ConfigureAwait(false);
            return false;
        }
        response.StatusCode = StatusCodes.Status401Unauthorized;
        response.Headers.WWWAuthenticate = "Basic realm=\"Transmission\"";
        await WriteHtmlAsync(response, "401: Unauthorized", "Unauthorized User").ConfigureAwait(false);
        return false;
    }

    private static async Task WriteAsync(HttpResponse response, Action<Utf8JsonWriter> write)
    {
        response.ContentType = "application/json; charset=UTF-8";
        using (var writer = new Utf8JsonWriter(response.BodyWriter))
        {
            write(writer);
        }
        await response.BodyWriter.FlushAsync().ConfigureAwait(false);
    }

    private static Task WriteHtmlAsync(HttpResponse response, string title, string body)
    {
        response.ContentType = "text/html; charset=UTF-8";
        return response.WriteAsync($"<html><head><title>{title}</title></head><body><h1>{title}</h1><p>{body}</p></body></html>");
    }

    /// <summary>A JSON-RPC error object; <paramref name="id"/> undefined writes a null id.</summary>
    internal static void JsonRpcError(Utf8JsonWriter w, JsonElement id, int code, string detail)
    {
        w.WriteStartObject();
        w.WriteString("jsonrpc", "2.0");
        w.WritePropertyName("error");
        w.WriteStartObject();
        w.WriteNumber("code", code);
        w.WriteString("message", RpcErrorCode.Message(code));
        w.WritePropertyName("data");
        w.WriteStartObject();
        w.WriteString("error_string", detail);
        w.WriteEndObject();
        w.WriteEndObject();
        w.WritePropertyName("id");
        if (id.ValueKind == JsonValueKind.Undefined) w.WriteNullValue();
        else id.WriteTo(w);
        w.WriteEndObject();
    }
}
