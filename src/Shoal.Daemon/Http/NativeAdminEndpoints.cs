using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Shoal.Daemon.Security;
using Shoal.Daemon.Service;

namespace Shoal.Daemon.Http;

/// <summary>The native API's login, session, settings, statistics, category and tag endpoints (docs/api.md).</summary>
internal static class NativeAdminEndpoints
{
    /// <summary>Longest password accepted (PBKDF2 over a megabyte would be a cheap denial of service).</summary>
    private const int MaxPasswordLength = 1024;

    public static void Map(IEndpointRouteBuilder app, Func<string?, Task> storePasswordHash, bool loopbackOnly)
    {
        RouteGroupBuilder api = app.MapGroup("/api/v1");

        api.MapPost("/auth/login", (HttpContext context, DaemonSecurity security, TorrentService service, LoginRequest body) =>
        {
            if (!security.PasswordRequired) return Session(context, security, service, security.SharedCsrfToken);
            string password = body.Password ?? "";
            if (password.Length > MaxPasswordLength) return ApiErrors.Result(StatusCodes.Status400BadRequest, "password too long");
            switch (security.CheckPassword(NativeAuthMiddleware.Remote(context), password))
            {
                case LoginOutcome.Throttled:
                    context.Response.Headers.RetryAfter = ((int)Math.Ceiling(security.Throttle.RetryAfter(NativeAuthMiddleware.Remote(context)).TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                    return ApiErrors.Result(StatusCodes.Status429TooManyRequests, "too many failed logins from this address: wait and try again");
                case LoginOutcome.Refused:
                    return ApiErrors.Result(StatusCodes.Status401Unauthorized, "wrong password");
            }
            (string cookie, string csrf) = security.Sessions.Create();
            context.Response.Cookies.Append(DaemonSecurity.CookieName, cookie, new CookieOptions
            {
                HttpOnly = true,
                SameSite = SameSiteMode.Strict,
                Secure = context.Request.IsHttps,
                Path = "/",
                MaxAge = LoginSessions.IdleTimeout,
            });
            return Session(context, security, service, csrf);
        });

        api.MapPost("/auth/logout", (HttpContext context, DaemonSecurity security) =>
        {
            security.Sessions.End(context.Request.Cookies[DaemonSecurity.CookieName]);
            context.Response.Cookies.Delete(DaemonSecurity.CookieName);
            return Results.NoContent();
        });

        api.MapPost("/auth/password", async (HttpContext context, DaemonSecurity security, PasswordRequest body) =>
        {
            string next = body.New ?? "";
            if (next.Length > MaxPasswordLength) throw ServiceException.Bad("password too long");
            if (security.PasswordRequired && security.CheckPassword(NativeAuthMiddleware.Remote(context), body.Current ?? "") != LoginOutcome.Accepted)
                return ApiErrors.Result(StatusCodes.Status403Forbidden, "the current password is wrong");
            if (next.Length == 0 && !loopbackOnly) throw ServiceException.Bad("the daemon listens beyond loopback: it cannot run without a password");
            if (next.Length is > 0 and < 8) throw ServiceException.Bad("a password has at least 8 characters");
            string? hash = next.Length == 0 ? null : PasswordHash.Create(next);
            await storePasswordHash(hash).ConfigureAwait(false);
            security.SetPasswordHash(hash);
            return Results.NoContent();
        });

        api.MapGet("/session", (HttpContext context, DaemonSecurity security, TorrentService service)
            => Session(context, security, service, context.Items[NativeAuthMiddleware.CsrfItem] as string ?? security.SharedCsrfToken));

        api.MapGet("/settings", (TorrentService service) => Results.Json(service.Settings, ServiceJson.Default.DaemonSettings));
        api.MapMethods("/settings", ["POST", "PATCH"], async (HttpContext context, TorrentService service) =>
        {
            JsonNode? node;
            try
            {
                node = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted).ConfigureAwait(false);
            }
            catch (System.Text.Json.JsonException ex)
            {
                throw ServiceException.Bad("malformed JSON: " + ex.Message);
            }
            if (node is not JsonObject patch) throw ServiceException.Bad("the body must be a JSON object of the settings to change");
            return Results.Json(await service.UpdateSettingsAsync(patch).ConfigureAwait(false), ServiceJson.Default.DaemonSettings);
        });

        api.MapGet("/stats", (TorrentService service) => Results.Json(service.GetStats(), ServiceJson.Default.SessionStatsView));
        api.MapGet("/stats/history", (TorrentService service) => Results.Json(service.RateHistory.Snapshot(), ServiceJson.Default.RateHistoryView));

        api.MapGet("/categories", (TorrentService service) => Results.Json(service.GetCategories(), ServiceJson.Default.IReadOnlyListCategoryView));
        api.MapPost("/categories", async (TorrentService service, CategoryRequest body)
            => Results.Json(await service.PutCategoryAsync(body.Name ?? "", body.SavePath).ConfigureAwait(false), ServiceJson.Default.CategoryView));
        api.MapDelete("/categories/{name}", async (TorrentService service, string name) =>
        {
            if (!service.GetCategories().Any(c => c.Name == name)) throw ServiceException.NotFound($"no category '{name}'");
            await service.DeleteCategoriesAsync([name]).ConfigureAwait(false);
            return Results.NoContent();
        });

        api.MapGet("/tags", (TorrentService service) => Results.Json(service.GetTags(), ServiceJson.Default.IReadOnlyListString));
        api.MapPost("/tags", async (TorrentService service, TagListRequest body) =>
        {
            await service.CreateTagsAsync(body.Tags ?? []).ConfigureAwait(false);
            return Results.Json(service.GetTags(), ServiceJson.Default.IReadOnlyListString);
        });
        api.MapDelete("/tags/{name}", async (TorrentService service, string name) =>
        {
            if (!service.GetTags().Contains(name)) throw ServiceException.NotFound($"no tag '{name}'");
            await service.DeleteTagsAsync([name]).ConfigureAwait(false);
            return Results.NoContent();
        });

        api.MapGet("/events", EventStreamEndpoint.RunAsync);
    }

    private static IResult Session(HttpContext context, DaemonSecurity security, TorrentService service, string csrf)
        => Results.Json(new SessionInfo(DaemonVersion.Text, 1, csrf, security.PasswordRequired, service.Events.Epoch), ApiJson.Default.SessionInfo);
}
