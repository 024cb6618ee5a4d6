using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Shoal.Daemon.Security;
using Shoal.Daemon.Service;

namespace Shoal.Daemon.Http;

/// <summary>
/// Guards the native API and the streaming URLs: a login (session cookie, or HTTP Basic with the password) when a
/// password is set, the CSRF token on every state-changing method, an Origin that matches the Host when a browser
/// sends one; and turns the service's refusals into error answers.
/// </summary>
internal sealed class NativeAuthMiddleware(RequestDelegate next, DaemonSecurity security, ILogger<NativeAuthMiddleware> log)
{
    /// <summary>Where the CSRF token of the request's client is left for the session endpoint.</summary>
    public const string CsrfItem = "shoal.csrf";

    public static bool Guards(PathString path) =>
        path.StartsWithSegments("/api/v1", StringComparison.Ordinal) || path.StartsWithSegments("/stream", StringComparison.Ordinal);

    public async Task InvokeAsync(HttpContext context)
    {
        if (!Guards(context.Request.Path))
        {
            await next(context).ConfigureAwait(false);
            return;
        }
        bool login = context.Request.Path.Equals("/api/v1/auth/login", StringComparison.Ordinal);
        if (!OriginMatches(context.Request))
        {
            await ApiErrors.WriteAsync(context, StatusCodes.Status403Forbidden, "cross-origin request refused").ConfigureAwait(false);
            return;
        }
        if (!login)
        {
            (string? csrf, int status, string? why) = Authenticate(context);
            if (csrf is null)
            {
                if (status == StatusCodes.Status429TooManyRequests)
                {
                    context.Response.Headers.RetryAfter = ((int)Math.Ceiling(security.Throttle.RetryAfter(Remote(context)).TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                }
                await ApiErrors.WriteAsync(context, status, why!).ConfigureAwait(false);
                return;
            }
            context.Items[CsrfItem] = csrf;
            if (!IsSafe(context.Request.Method) && !DaemonSecurity.TokensEqual(context.Request.Headers[DaemonSecurity.CsrfHeader].ToString(), csrf))
            {
                await ApiErrors.WriteAsync(context, StatusCodes.Status403Forbidden,
                    $"missing or wrong CSRF token: read csrf_token from GET /api/v1/session and send it in the {DaemonSecurity.CsrfHeader} header").ConfigureAwait(false);
                return;
            }
        }
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (ServiceException ex) when (!context.Response.HasStarted)
        {
            await ApiErrors.WriteAsync(context, ApiErrors.StatusOf(ex.Kind), ex.Message).ConfigureAwait(false);
        }
        catch (BadHttpRequestException ex) when (!context.Response.HasStarted)
        {
            await ApiErrors.WriteAsync(context, ex.StatusCode, ex.InnerException is System.Text.Json.JsonException json ? "malformed JSON: " + json.Message : ex.Message).ConfigureAwait(false);
        }
        catch (System.Text.Json.JsonException ex) when (!context.Response.HasStarted)
        {
            await ApiErrors.WriteAsync(context, StatusCodes.Status400BadRequest, "malformed JSON: " + ex.Message).ConfigureAwait(false);
        }
        catch (ObjectDisposedException) when (!context.Response.HasStarted)
        {
            await ApiErrors.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "the daemon is stopping").ConfigureAwait(false);
        }
        catch (Exception ex) when (!context.Response.HasStarted && ex is not OperationCanceledException)
        {
            log.LogError(ex, "{Method} {Path} failed", context.Request.Method, context.Request.Path);
            await ApiErrors.WriteAsync(context, StatusCodes.Status500InternalServerError, "internal error: " + ex.Message).ConfigureAwait(false);
        }
    }

    /// <summary>The client's CSRF token when it may go on; else the status and why.</summary>
    private (string? Csrf, int Status, string? Why) Authenticate(HttpContext context)
    {
        if (!security.PasswordRequired) return (security.SharedCsrfToken, 0, null);
        if (security.Sessions.Touch(context.Request.Cookies[DaemonSecurity.CookieName]) is { } sessionCsrf) return (sessionCsrf, 0, null);
        string authorization = context.Request.Headers.Authorization.ToString();
        if (BasicAuthorization.Password(authorization) is { } password)
        {
            return security.CheckPassword(Remote(context), password) switch
            {
                LoginOutcome.Accepted => (security.SharedCsrfToken, 0, null),
                LoginOutcome.Throttled => (null, StatusCodes.Status429TooManyRequests, "too many failed logins from this address: wait and try again"),
                _ => (null, StatusCodes.Status401Unauthorized, "wrong password"),
            };
        }
        return (null, StatusCodes.Status401Unauthorized, "login required: POST /api/v1/auth/login with the password");
    }

    public static IPAddress Remote(HttpContext context) => context.Connection.RemoteIpAddress ?? IPAddress.None;

    private static bool IsSafe(string method) => HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method);

    /// <summary>A browser's Origin, when sent, must be this daemon's own (scheme-less host:port match).</summary>
    private static bool OriginMatches(HttpRequest request)
    {
        string origin = request.Headers.Origin.ToString();
        if (string.IsNullOrEmpty(origin)) return true;
        if (!Uri.TryCreate(origin, UriKind.Absolute, out Uri? uri)) return false;
        string host = request.Host.Value ?? "";
        string originHost = uri.IsDefaultPort ? uri.Host : uri.Authority;
        if (uri.HostNameType == UriHostNameType.IPv6) originHost = uri.IsDefaultPort ? "[" + uri.IdnHost + "]" : uri.Authority;
        return string.Equals(host, originHost, StringComparison.OrdinalIgnoreCase)
            || string.Equals(host, uri.Authority, StringComparison.OrdinalIgnoreCase);
    }
}
