using Microsoft.AspNetCore.Http;
using Shoal.Daemon.Security;

namespace Shoal.Daemon.Http;

/// <summary>
/// Refuses every request whose Host header names a host the daemon does not answer to (421), before anything else
/// runs: a web page on a rebinding domain that resolves to 127.0.0.1 reaches nothing.
/// </summary>
internal sealed class HostCheckMiddleware(RequestDelegate next, DaemonSecurity security)
{
    public async Task InvokeAsync(HttpContext context)
    {
        string host = context.Request.Host.Host;
        if (!security.IsHostAllowed(host))
        {
            await ApiErrors.WriteAsync(context, StatusCodes.Status421MisdirectedRequest,
                $"this daemon does not answer to host '{host}': use its IP address or localhost, or add the name to the allowed_hosts setting").ConfigureAwait(false);
            return;
        }
        await next(context).ConfigureAwait(false);
    }
}
