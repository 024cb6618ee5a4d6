using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Shoal.Tests.Dialects;

/// <summary>A plain client of the daemon's qBittorrent Web API for tests: cookies kept, raw status and text returned.</summary>
internal sealed class QbClient : IDisposable
{
    private readonly HttpClient _http;

    public QbClient(Uri daemon)
    {
        Cookies = new CookieContainer();
        _http = new HttpClient(new SocketsHttpHandler { CookieContainer = Cookies, UseCookies = true }) { BaseAddress = daemon, Timeout = TimeSpan.FromSeconds(60) };
    }

    public CookieContainer Cookies { get; }

    public HttpClient Http => _http;

    public async Task<(HttpStatusCode Status, string Text)> GetAsync(string path, Action<HttpRequestHeaders>? headers = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/v2/" + path);
        headers?.Invoke(request.Headers);
        using HttpResponseMessage response = await _http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public async Task<(HttpStatusCode Status, string Text)> PostAsync(string path, IEnumerable<KeyValuePair<string, string>>? form = null, Action<HttpRequestHeaders>? headers = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/v2/" + path) { Content = new FormUrlEncodedContent(form ?? []) };
        headers?.Invoke(request.Headers);
        using HttpResponseMessage response = await _http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public Task<(HttpStatusCode Status, string Text)> PostAsync(string path, params (string Key, string Value)[] form)
        => PostAsync(path, form.Select(p => new KeyValuePair<string, string>(p.Key, p.Value)));

    /// <summary>torrents/add as a multipart form: .torrent files as "torrents" parts, and the fields.</summary>
    public async Task<(HttpStatusCode Status, string Text)> AddAsync(IEnumerable<(string Name, byte[] Data)> torrents, params (string Key, string Value)[] fields)
    {
        using var form = new MultipartFormDataContent();
        foreach ((string name, byte[] data) in torrents)
        {
            var part = new ByteArrayContent(data);
            part.Headers.ContentType = new MediaTypeHeaderValue("application/x-bittorrent");
            form.Add(part, "torrents", name);
        }
        foreach ((string key, string value) in fields) form.Add(new StringContent(value), key);
        using HttpResponseMessage response = await _http.PostAsync("api/v2/torrents/add", form);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>A GET that must answer 200 with JSON.</summary>
    public async Task<JsonElement> JsonAsync(string path)
    {
        (HttpStatusCode status, string text) = await GetAsync(path);
        Assert.True(status == HttpStatusCode.OK, $"{path}: {(int)status} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>A POST that must answer 200.</summary>
    public async Task<string> OkAsync(string path, params (string Key, string Value)[] form)
    {
        (HttpStatusCode status, string text) = await PostAsync(path, form);
        Assert.True(status == HttpStatusCode.OK, $"{path}: {(int)status} {text}");
        return text;
    }

    /// <summary>The torrents/info row of one torrent.</summary>
    public async Task<JsonElement> TorrentAsync(string hash) => (await JsonAsync("torrents/info?hashes=" + hash)).EnumerateArray().Single();

    public void Dispose() => _http.Dispose();
}
