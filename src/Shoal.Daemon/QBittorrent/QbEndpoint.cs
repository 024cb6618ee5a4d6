using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Shoal.Daemon.Http;
using Shoal.Daemon.Security;
using Shoal.Daemon.Service;

namespace Shoal.Daemon.QBittorrent;

/// <summary>
/// The qBittorrent Web API v2 under /api/v2/SCOPE/ACTION. Before any action: the Origin/Referer check against
/// CSRF (a cross-site request is 401, as qBittorrent answers; API-key requests are exempt, browsers cannot send
/// them), then authentication: an API key (Bearer), the SID cookie from auth/login, HTTP Basic with the password,
/// or nothing when the daemon has no password (it then listens on loopback only). Unauthenticated calls are 403,
/// unknown endpoints 404, a wrong HTTP method 405; answers are plain text or JSON as qBittorrent's are.
/// </summary>
internal static class QbEndpoint
{
    public const string CookieName = "SID";

    public static void Map(IEndpointRouteBuilder app) => app.Map("/api/v2/{scope}/{action}", HandleAsync);

    private static async Task HandleAsync(HttpContext context, string scope, string action, QbApi api, DaemonSecurity security, ILoggerFactory logs)
    {
        HttpRequest request = context.Request;
        HttpResponse response = context.Response;
        string authorization = request.Headers.Authorization.ToString();
        bool bearer = authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase);
        try
        {
            if (!bearer && IsCrossSite(request)) throw new QbException(StatusCodes.Status401Unauthorized, "Unauthorized");
            string name = scope + "/" + action;
            bool login = name == "auth/login";
            string? client = await AuthenticateAsync(context, security, api, bearer, authorization).ConfigureAwait(false);
            if (client is null && !login) throw new QbException(StatusCodes.Status403Forbidden, "Forbidden");
            if (bearer && scope == "auth") throw new QbException(StatusCodes.Status403Forbidden, "Forbidden");
            if (!api.Actions.TryGetValue(name, out QbApi.Action? entry)) throw QbException.NotFound(api.Unsupported.Contains(name)
                ? $"{name} is not supported by Shoal (docs/api.md lists what is)"
                : "Not Found");
            bool methodOk = entry.Post ? HttpMethods.IsPost(request.Method) : HttpMethods.IsGet(request.Method) || HttpMethods.IsPost(request.Method);
            if (!methodOk)
            {
                response.Headers.Allow = entry.Post ? "POST" : "GET, POST";
                throw new QbException(StatusCodes.Status405MethodNotAllowed, "Method Not Allowed");
            }
            QbParams parameters = await QbParams.ReadAsync(request, context.RequestAborted).ConfigureAwait(false);
            QbResult result = await entry.Run(new QbCall(parameters, client ?? "login:" + NativeAuthMiddleware.Remote(context), context)).ConfigureAwait(false);
            await result.WriteAsync(response).ConfigureAwait(false);
        }
        catch (QbException ex) when (!response.HasStarted)
        {
            await WriteErrorAsync(response, ex.Status, ex.Message).ConfigureAwait(false);
        }
        catch (ServiceException ex) when (!response.HasStarted)
        {
            int status = ex.Kind switch
            {
                ServiceErrorKind.BadRequest => StatusCodes.Status400BadRequest,
                ServiceErrorKind.NotFound => StatusCodes.Status404NotFound,
                ServiceErrorKind.Forbidden => StatusCodes.Status403Forbidden,
                _ => StatusCodes.Status409Conflict,
            };
            await WriteErrorAsync(response, status, ex.Message).ConfigureAwait(false);
        }
        catch (BadHttpRequestException ex) when (!response.HasStarted)
        {
            await WriteErrorAsync(response, ex.StatusCode, ex.Message).ConfigureAwait(false);
        }
        catch (ObjectDisposedException) when (!response.HasStarted)
        {
            await WriteErrorAsync(response, StatusCodes.Status503ServiceUnavailable, "the daemon is stopping").ConfigureAwait(false);
        }
        catch (Exception ex) when (!response.HasStarted && ex is not OperationCanceledException)
        {
            logs.CreateLogger("Shoal.QBittorrent").LogError(ex, "{Method} {Path} failed", request.Method, request.Path);
            await WriteErrorAsync(response, StatusCodes.Status500InternalServerError, "internal error: " + ex.Message).ConfigureAwait(false);
        }
    }

    /// <summary>Who is calling (a key for sync's per-client state), or null when not authenticated.</summary>
    private static async Task<string?> AuthenticateAsync(HttpContext context, DaemonSecurity security, QbApi api, bool bearer, string authorization)
    {
        if (bearer)
        {
            // A wrong key counts as a failed login, so keys cannot be guessed faster than passwords.
            IPAddress remote = NativeAuthMiddleware.Remote(context);
            if (security.Throttle.RetryAfter(remote) > TimeSpan.Zero) throw Banned();
            if (api.Keys.Check(authorization[7..].Trim())) return "key";
            security.Throttle.Failed(remote);
            return null;
        }
        string? cookie = context.Request.Cookies[CookieName];
        if (security.Sessions.Touch(cookie) is not null) return "sid:" + cookie;
        if (!security.PasswordRequired) return "ip:" + NativeAuthMiddleware.Remote(context);
        if (BasicAuthorization.Password(authorization) is { } password)
        {
            switch (security.CheckPassword(NativeAuthMiddleware.Remote(context), password))
            {
                case LoginOutcome.Accepted:
                    return "sid:" + StartSession(context, security);
                case LoginOutcome.Throttled:
                    throw Banned();
                default:
                    throw new QbException(StatusCodes.Status401Unauthorized, "Unauthorized");
            }
        }
        await Task.CompletedTask.ConfigureAwait(false);
        return null;
    }

    public static QbException Banned() => new(StatusCodes.Status403Forbidden, "Your IP address has been banned after too many failed authentication attempts.");

    /// <summary>Starts a login session and sets its SID cookie; returns the cookie's value.</summary>
    public static string StartSession(HttpContext context, DaemonSecurity security)
    {
        (string cookie, _) = security.Sessions.Create();
        context.Response.Cookies.Append(CookieName, cookie, new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Secure = context.Request.IsHttps,
            Path = "/",
            MaxAge = LoginSessions.IdleTimeout,
        });
        return cookie;
    }

    /// <summary>
    /// qBittorrent's CSRF rule: a request whose Origin (or, without one, Referer) names another host and port than
    /// its Host header comes from another site. Requests without either (programs, not browsers) pass.
    /// </summary>
    private static bool IsCrossSite(HttpRequest request)
    {
        string source = request.Headers.Origin.ToString();
        if (source.Length == 0) source = request.Headers.Referer.ToString();
        if (source.Length == 0) return false;
        if (!Uri.TryCreate(source, UriKind.Absolute, out Uri? uri) || uri.Host.Length == 0) return true;
        string target = request.Host.Value ?? "";
        string origin = uri.IsDefaultPort ? uri.Host : $"{uri.Host}:{uri.Port}";
        if (uri.HostNameType == UriHostNameType.IPv6) origin = uri.IsDefaultPort ? $"[{uri.IdnHost}]" : uri.Authority;
        string withDefaultPort = uri.Authority;
        return !string.Equals(target, origin, StringComparison.OrdinalIgnoreCase) && !string.Equals(target, withDefaultPort, StringComparison.OrdinalIgnoreCase);
    }

    private static async Task WriteErrorAsync(HttpResponse response, int status, string message)
    {
        response.StatusCode = status;
        response.ContentType = "text/plain; charset=UTF-8";
        await response.WriteAsync(message).ConfigureAwait(false);
    }
}
