using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Shoal.Daemon.Security;

namespace Shoal.Tests.Daemon;

/// <summary>A plain HTTP client of the native API for tests: raw status codes and JSON, cookies kept, CSRF sent when asked.</summary>
internal sealed class ApiClient : IDisposable
{
    private readonly HttpClient _http;

    public ApiClient(Uri address)
    {
        Cookies = new CookieContainer();
        _http = new HttpClient(new SocketsHttpHandler { CookieContainer = Cookies, UseCookies = true }) { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
    }

    public CookieContainer Cookies { get; }

    public string? Csrf { get; set; }

    public HttpClient Http => _http;

    /// <summary>Reads the CSRF token (GET /api/v1/session); returns the status.</summary>
    public async Task<HttpStatusCode> FetchCsrfAsync()
    {
        (HttpStatusCode status, JsonElement body) = await GetAsync("api/v1/session");
        if (status == HttpStatusCode.OK) Csrf = body.GetProperty("csrf_token").GetString();
        return status;
    }

    public async Task<HttpStatusCode> LoginAsync(string password)
    {
        (HttpStatusCode status, JsonElement body) = await SendAsync(HttpMethod.Post, "api/v1/auth/login", JsonSerializer.Serialize(new { password }), csrf: false);
        if (status == HttpStatusCode.OK) Csrf = body.GetProperty("csrf_token").GetString();
        return status;
    }

    public Task<(HttpStatusCode Status, JsonElement Body)> GetAsync(string path, Action<HttpRequestHeaders>? headers = null)
        => SendAsync(HttpMethod.Get, path, null, csrf: false, headers);

    public Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(string path, object body, bool csrf = true, Action<HttpRequestHeaders>? headers = null)
        => SendAsync(HttpMethod.Post, path, body as string ?? JsonSerializer.Serialize(body), csrf, headers);

    public async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(HttpMethod method, string path, string? json, bool csrf, Action<HttpRequestHeaders>? headers = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        if (csrf && Csrf is not null) request.Headers.Add(DaemonSecurity.CsrfHeader, Csrf);
        headers?.Invoke(request.Headers);
        using HttpResponseMessage response = await _http.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        JsonElement body = text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
        return (response.StatusCode, body);
    }

    /// <summary>Adds a .torrent (base64 JSON); returns the status and the body.</summary>
    public Task<(HttpStatusCode Status, JsonElement Body)> AddAsync(byte[] metainfo, object? extra = null)
    {
        var fields = new Dictionary<string, object?> { ["metainfo"] = Convert.ToBase64String(metainfo) };
        if (extra is not null)
        {
            foreach (JsonProperty p in JsonSerializer.SerializeToElement(extra).EnumerateObject()) fields[p.Name] = p.Value;
        }
        return PostAsync("api/v1/torrents", fields);
    }

    /// <summary>The list row of torrent <paramref name="id"/>.</summary>
    public async Task<JsonElement> TorrentAsync(long id)
    {
        (HttpStatusCode status, JsonElement body) = await GetAsync($"api/v1/torrents/{id}");
        Assert.Equal(HttpStatusCode.OK, status);
        return body.GetProperty("torrent");
    }

    public void Dispose() => _http.Dispose();
}
