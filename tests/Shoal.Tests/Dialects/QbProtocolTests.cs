using System.Net;
using System.Text;
using Shoal.Tests.Daemon;
using Shoal.Tests.Interop;

namespace Shoal.Tests.Dialects;

/// <summary>
/// The qBittorrent Web API's authentication and protection over real HTTP: SID login, logout, Basic, API keys,
/// the failed-login ban, the Origin/Referer check, the Host check, and the 403/404/405/400 answers.
/// </summary>
public sealed class QbProtocolTests : IAsyncLifetime
{
    private const string Password = "correct horse";
    private readonly TempFolder _folder = new("shoal-qb-protocol");
    private TestDaemon _daemon = null!;

    public async Task InitializeAsync() => _daemon = await TestDaemon.StartAsync(_folder, o => o with { Password = Password });

    public async Task DisposeAsync()
    {
        await _daemon.DisposeAsync();
        _folder.Dispose();
    }

    [Fact]
    public async Task Login_gives_a_SID_cookie_logout_ends_it_and_a_wrong_password_fails()
    {
        using var client = new QbClient(_daemon.Address);
        Assert.Equal((HttpStatusCode.Forbidden, "Forbidden"), await client.GetAsync("app/version"));
        // webapiVersion is how Sonarr tells the API apart: 403 means "v2, log in".
        Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync("app/webapiVersion")).Status);

        Assert.Equal((HttpStatusCode.OK, "Fails."), await client.PostAsync("auth/login", ("username", "admin"), ("password", "wrong")));
        Assert.Equal((HttpStatusCode.OK, "Ok."), await client.PostAsync("auth/login", ("username", "admin"), ("password", Password)));
        Cookie sid = client.Cookies.GetAllCookies().Single(c => c.Name == "SID");
        Assert.True(sid.HttpOnly);
        Assert.Equal((HttpStatusCode.OK, "v5.1.4"), await client.GetAsync("app/version"));
        Assert.Equal((HttpStatusCode.OK, "2.11.4"), await client.GetAsync("app/webapiVersion"));
        // Logged in already: Ok again.
        Assert.Equal((HttpStatusCode.OK, "Ok."), await client.PostAsync("auth/login"));

        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("auth/logout")).Status);
        client.Cookies.Add(_daemon.Address, new Cookie("SID", sid.Value)); // the old cookie is dead on the server too
        Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync("app/version")).Status);
    }

    [Fact]
    public async Task Failed_logins_ban_the_address_with_403()
    {
        using var client = new QbClient(_daemon.Address);
        for (int i = 0; i < 5; i++) Assert.Equal("Fails.", (await client.PostAsync("auth/login", ("username", "a"), ("password", "guess" + i))).Text);
        (HttpStatusCode status, string text) = await client.PostAsync("auth/login", ("username", "a"), ("password", Password));
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Contains("banned", text);
    }

    [Fact]
    public async Task Basic_authentication_and_API_keys_work_without_a_cookie()
    {
        using var basic = new QbClient(_daemon.Address);
        (HttpStatusCode status, string text) = await basic.GetAsync("app/version", h => h.Authorization = new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("x:" + Password))));
        Assert.Equal((HttpStatusCode.OK, "v5.1.4"), (status, text));
        Assert.Contains(basic.Cookies.GetAllCookies(), c => c.Name == "SID"); // Basic starts a session, as in qBittorrent
        using var wrongBasic = new QbClient(_daemon.Address);
        Assert.Equal(HttpStatusCode.Unauthorized, (await wrongBasic.GetAsync("app/version", h => h.Authorization = new("Basic", Convert.ToBase64String("x:nope"u8.ToArray())))).Status);

        using var admin = new QbClient(_daemon.Address);
        await admin.OkAsync("auth/login", ("username", "admin"), ("password", Password));
        string key = (await admin.PostAsync("app/rotateAPIKey")).Text;
        key = System.Text.Json.JsonDocument.Parse(key).RootElement.GetProperty("apiKey").GetString()!;
        Assert.StartsWith("qbt_", key);
        Assert.Equal(32, key.Length);
        Assert.Equal("", (await admin.JsonAsync("app/preferences")).GetProperty("web_ui_api_key").GetString()); // never shown again

        using var bearer = new QbClient(_daemon.Address);
        Assert.Equal((HttpStatusCode.OK, "v5.1.4"), await bearer.GetAsync("app/version", h => h.Authorization = new("Bearer", key)));
        // An API key may not use auth/ (no sessions from keys), and a browser's Origin does not matter for it.
        Assert.Equal(HttpStatusCode.Forbidden, (await bearer.PostAsync("auth/login", null, h => h.Authorization = new("Bearer", key))).Status);
        Assert.Equal(HttpStatusCode.OK, (await bearer.GetAsync("app/version", h => { h.Authorization = new("Bearer", key); h.Add("Origin", "http://elsewhere.example"); })).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await bearer.GetAsync("app/version", h => h.Authorization = new("Bearer", "qbt_wrongwrongwrongwrongwrongwron"))).Status);

        // The key survives a restart (its hash is kept), and stops working once deleted.
        await _daemon.RestartAsync();
        using var again = new QbClient(_daemon.Address);
        Assert.Equal(HttpStatusCode.OK, (await again.GetAsync("app/version", h => h.Authorization = new("Bearer", key))).Status);
        Assert.Equal(HttpStatusCode.OK, (await again.PostAsync("app/deleteAPIKey", null, h => h.Authorization = new("Bearer", key))).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await again.GetAsync("app/version", h => h.Authorization = new("Bearer", key))).Status);
    }

    [Fact]
    public async Task Cross_site_requests_and_foreign_hosts_are_refused()
    {
        using var client = new QbClient(_daemon.Address);
        await client.OkAsync("auth/login", ("username", "admin"), ("password", Password));
        string own = $"http://{_daemon.Address.Authority}";
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("app/version", h => h.Add("Origin", own))).Status);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("app/version", h => h.Referrer = new Uri(own + "/index.html"))).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.PostAsync("torrents/pause", [new("hashes", "all")], h => h.Add("Origin", "http://evil.example"))).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("app/version", h => h.Referrer = new Uri("http://evil.example/page"))).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.PostAsync("auth/login", [new("password", Password)], h => h.Add("Origin", "http://127.0.0.1:1"))).Status);

        using var request = new HttpRequestMessage(HttpMethod.Get, "api/v2/app/version");
        request.Headers.Host = "rebound.example";
        using HttpResponseMessage response = await client.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.MisdirectedRequest, response.StatusCode);
    }

    [Fact]
    public async Task Unknown_endpoints_wrong_methods_and_missing_parameters_get_qBittorrent_errors()
    {
        using var client = new QbClient(_daemon.Address);
        await client.OkAsync("auth/login", ("username", "admin"), ("password", Password));
        Assert.Equal((HttpStatusCode.NotFound, "Not Found"), await client.GetAsync("torrents/nothing"));
        (HttpStatusCode status, string text) = await client.GetAsync("torrents/pieceHashes?hash=00");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Contains("not supported by Shoal", text);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await client.GetAsync("torrents/delete?hashes=all&deleteFiles=false")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsync("torrents/setCategory", ("hashes", "all"))).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("torrents/properties?hash=0123456789012345678901234567890123456789")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync("torrents/info?sort=nonsense")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.PostAsync("app/shutdown")).Status);
    }

    [Fact]
    public async Task Without_a_password_on_loopback_no_login_is_needed()
    {
        await _daemon.DisposeAsync();
        using var other = new TempFolder("shoal-qb-nopass");
        _daemon = await TestDaemon.StartAsync(other);
        using var client = new QbClient(_daemon.Address);
        Assert.Equal((HttpStatusCode.OK, "v5.1.4"), await client.GetAsync("app/version"));
        Assert.Equal((HttpStatusCode.OK, "Ok."), await client.PostAsync("auth/login", ("username", "any"), ("password", "any")));
        Assert.Contains(client.Cookies.GetAllCookies(), c => c.Name == "SID");
        await _daemon.DisposeAsync();
        _daemon = await TestDaemon.StartAsync(_folder);
    }
}
