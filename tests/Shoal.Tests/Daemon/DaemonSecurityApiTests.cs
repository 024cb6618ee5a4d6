using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Shoal.Daemon;
using Shoal.Daemon.Security;
using Shoal.Tests.Interop;

namespace Shoal.Tests.Daemon;

/// <summary>The HTTP interface's defences, over real HTTP on 127.0.0.1.</summary>
public sealed class DaemonSecurityApiTests : IAsyncLifetime
{
    private const string Password = "a long enough password";
    private readonly TempFolder _folder = new("shoal-daemon-security");
    private TestDaemon _daemon = null!;

    public async Task InitializeAsync() => _daemon = await TestDaemon.StartAsync(_folder, o => o with { Password = Password });

    public async Task DisposeAsync()
    {
        await _daemon.DisposeAsync();
        _folder.Dispose();
    }

    [Fact]
    public async Task Without_a_login_everything_is_refused()
    {
        using ApiClient client = _daemon.Client();
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("api/v1/torrents")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("api/v1/session")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("api/v1/events")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.PostAsync("api/v1/torrents/pause", new { ids = new[] { "all" } }, csrf: false)).Status);
    }

    [Fact]
    public async Task A_wrong_password_is_refused_and_the_right_one_opens_a_session()
    {
        using ApiClient client = _daemon.Client();
        Assert.Equal(HttpStatusCode.Unauthorized, await client.LoginAsync("not the password"));
        Assert.Empty(client.Cookies.GetCookies(_daemon.Address));
        Assert.Equal(HttpStatusCode.OK, await client.LoginAsync(Password));
        Cookie cookie = Assert.Single(client.Cookies.GetCookies(_daemon.Address));
        Assert.Equal(DaemonSecurity.CookieName, cookie.Name);
        Assert.True(cookie.HttpOnly);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("api/v1/torrents")).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await client.PostAsync("api/v1/auth/logout", new { })).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("api/v1/torrents")).Status);
    }

    [Fact]
    public async Task Repeated_wrong_passwords_are_throttled_even_when_the_right_one_follows()
    {
        using ApiClient client = _daemon.Client();
        for (int i = 0; i < LoginThrottle.FreeFailures; i++) Assert.Equal(HttpStatusCode.Unauthorized, await client.LoginAsync("guess " + i));
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/v1/auth/login")
        {
            Content = new StringContent(JsonSerializer.Serialize(new { password = Password }), Encoding.UTF8, "application/json"),
        };
        using HttpResponseMessage throttled = await client.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.TooManyRequests, throttled.StatusCode);
        Assert.NotNull(throttled.Headers.RetryAfter);
        // HTTP Basic goes through the same throttle.
        (HttpStatusCode basic, _) = await client.GetAsync("api/v1/torrents", h => h.Authorization = Basic(Password));
        Assert.Equal(HttpStatusCode.TooManyRequests, basic);
    }

    [Fact]
    public async Task Http_basic_with_the_password_works_and_still_needs_the_csrf_token_to_change_anything()
    {
        using ApiClient client = _daemon.Client();
        (HttpStatusCode wrong, _) = await client.GetAsync("api/v1/torrents", h => h.Authorization = Basic("nope nope nope"));
        Assert.Equal(HttpStatusCode.Unauthorized, wrong);
        (HttpStatusCode ok, JsonElement session) = await client.GetAsync("api/v1/session", h => h.Authorization = Basic(Password));
        Assert.Equal(HttpStatusCode.OK, ok);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.PostAsync("api/v1/tags", new { tags = new[] { "x" } }, csrf: false, h => h.Authorization = Basic(Password))).Status);
        client.Csrf = session.GetProperty("csrf_token").GetString();
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("api/v1/tags", new { tags = new[] { "x" } }, csrf: true, h => h.Authorization = Basic(Password))).Status);
    }

    [Fact]
    public async Task A_state_changing_call_without_the_csrf_token_is_refused()
    {
        using ApiClient client = _daemon.Client();
        Assert.Equal(HttpStatusCode.OK, await client.LoginAsync(Password));
        string token = client.Csrf!;
        client.Csrf = null;
        (HttpStatusCode missing, JsonElement why) = await client.PostAsync("api/v1/categories", new { name = "films" }, csrf: false);
        Assert.Equal(HttpStatusCode.Forbidden, missing);
        Assert.Contains("CSRF", why.GetProperty("error").GetString());
        client.Csrf = "forged";
        Assert.Equal(HttpStatusCode.Forbidden, (await client.PostAsync("api/v1/categories", new { name = "films" })).Status);
        client.Csrf = token;
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("api/v1/categories", new { name = "films" })).Status);
        // Reads need no token.
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("api/v1/categories")).Status);
    }

    [Fact]
    public async Task A_foreign_host_header_is_refused_before_anything_else()
    {
        using ApiClient client = _daemon.Client();
        Assert.Equal(HttpStatusCode.OK, await client.LoginAsync(Password));
        (HttpStatusCode status, JsonElement body) = await client.GetAsync("api/v1/torrents", h => h.Host = "attacker.example");
        Assert.Equal(HttpStatusCode.MisdirectedRequest, status);
        Assert.Contains("attacker.example", body.GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.MisdirectedRequest, (await client.PostAsync("api/v1/auth/login", new { password = Password }, csrf: false, h => h.Host = "rebind.attacker.example:9091")).Status);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("api/v1/torrents", h => h.Host = "localhost:" + _daemon.Address.Port)).Status);
    }

    [Fact]
    public async Task A_cross_origin_browser_request_is_refused()
    {
        using ApiClient client = _daemon.Client();
        Assert.Equal(HttpStatusCode.OK, await client.LoginAsync(Password));
        Assert.Equal(HttpStatusCode.Forbidden, (await client.PostAsync("api/v1/tags", new { tags = new[] { "y" } }, csrf: true, h => h.Add("Origin", "http://evil.example"))).Status);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("api/v1/tags", new { tags = new[] { "y" } }, csrf: true, h => h.Add("Origin", _daemon.Address.GetLeftPart(UriPartial.Authority)))).Status);
    }

    [Fact]
    public async Task The_password_is_stored_only_as_a_salted_hash_and_survives_a_restart()
    {
        await _daemon.RestartAsync();
        foreach (string file in Directory.EnumerateFiles(_daemon.Options.DataDirectory, "*", SearchOption.AllDirectories))
        {
            byte[] bytes = await File.ReadAllBytesAsync(file);
            Assert.True(bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(Password)) < 0, $"{file} holds the password in plain text");
        }
        using ApiClient client = _daemon.Client();
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("api/v1/torrents")).Status);
        Assert.Equal(HttpStatusCode.OK, await client.LoginAsync(Password));
    }

    [Fact]
    public async Task Binding_beyond_loopback_without_a_password_is_refused()
    {
        using var folder = new TempFolder("shoal-daemon-open");
        var ex = await Assert.ThrowsAsync<DaemonStartException>(() => TestDaemon.StartAsync(folder, o => o with { WebBind = IPAddress.Any }));
        Assert.Contains("password", ex.Message);
    }

    private static AuthenticationHeaderValue Basic(string password)
        => new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("user:" + password)));
}
