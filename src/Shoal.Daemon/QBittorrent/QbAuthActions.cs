using Microsoft.AspNetCore.Http;
using Shoal.Daemon.Http;
using Shoal.Daemon.Security;

namespace Shoal.Daemon.QBittorrent;

/// <summary>
/// auth/login and auth/logout, as qBittorrent 5.1 answers them: 200 "Ok." with a SID cookie, 200 "Fails." for a
/// wrong password, 403 when the address is banned by the failed-login throttle. Any user name is accepted: the
/// daemon has one password.
/// </summary>
internal sealed class QbAuthActions(DaemonSecurity security)
{
    /// <summary>Longest password checked (PBKDF2 over a megabyte would be a cheap denial of service).</summary>
    private const int MaxPasswordLength = 1024;

    public Task<QbResult> LoginAsync(QbCall call)
    {
        HttpContext context = call.Context;
        if (call.ClientKey.StartsWith("sid:", StringComparison.Ordinal)) return Task.FromResult(QbResult.Ok);
        if (security.PasswordRequired)
        {
            string password = call.Params["password"] ?? "";
            if (password.Length > MaxPasswordLength) return Task.FromResult(QbResult.Fails);
            switch (security.CheckPassword(NativeAuthMiddleware.Remote(context), password))
            {
                case LoginOutcome.Throttled:
                    throw QbEndpoint.Banned();
                case LoginOutcome.Refused:
                    return Task.FromResult(QbResult.Fails);
            }
        }
        QbEndpoint.StartSession(context, security);
        return Task.FromResult(QbResult.Ok);
    }

    public Task<QbResult> Logout(QbCall call)
    {
        security.Sessions.End(call.Context.Request.Cookies[QbEndpoint.CookieName]);
        call.Context.Response.Cookies.Delete(QbEndpoint.CookieName);
        return Task.FromResult(QbResult.Empty);
    }
}
