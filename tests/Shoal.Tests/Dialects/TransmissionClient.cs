using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Shoal.Tests.Dialects;

/// <summary>
/// A plain client of the daemon's Transmission RPC for tests: it does the X-Transmission-Session-Id handshake
/// (a 409 gives the id, the request is sent again) and returns the raw JSON, so tests check names and types.
/// </summary>
internal sealed class TransmissionClient : IDisposable
{
    private readonly HttpClient _http;

    public TransmissionClient(Uri daemon, string? password = null)
    {
        _http = new HttpClient { BaseAddress = daemon, Timeout = TimeSpan.FromSeconds(60) };
        if (password is not null)
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("user:" + password)));
        }
    }

    public string? SessionId { get; set; }

    public HttpClient Http => _http;

    /// <summary>Posts <paramref name="json"/> to /transmission/rpc once, with the session id if one is known.</summary>
    public async Task<HttpResponseMessage> PostRawAsync(string json, string path = "transmission/rpc")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        if (SessionId is not null) request.Headers.Add("X-Transmission-Session-Id", SessionId);
        return await _http.SendAsync(request);
    }

    /// <summary>Posts with the handshake; returns the status and the parsed body (default when empty).</summary>
    public async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(string json)
    {
        HttpResponseMessage response = await PostRawAsync(json);
        if (response.StatusCode == HttpStatusCode.Conflict)
        {
            SessionId = response.Headers.GetValues("X-Transmission-Session-Id").Single();
            response.Dispose();
            response = await PostRawAsync(json);
        }
        using (response)
        {
            string text = await response.Content.ReadAsStringAsync();
            return (response.StatusCode, text.Length == 0 || response.Content.Headers.ContentType?.MediaType != "application/json" ? default : JsonDocument.Parse(text).RootElement.Clone());
        }
    }

    /// <summary>A call in the classic form; asserts HTTP 200 and returns the whole answer.</summary>
    public async Task<JsonElement> CallAsync(string method, object? arguments = null, int? tag = null)
    {
        var request = new Dictionary<string, object?> { ["method"] = method };
        if (arguments is not null) request["arguments"] = arguments;
        if (tag is not null) request["tag"] = tag;
        (HttpStatusCode status, JsonElement body) = await PostAsync(JsonSerializer.Serialize(request));
        Assert.Equal(HttpStatusCode.OK, status);
        return body;
    }

    /// <summary>A classic call that must succeed; returns its arguments.</summary>
    public async Task<JsonElement> OkAsync(string method, object? arguments = null)
    {
        JsonElement answer = await CallAsync(method, arguments);
        Assert.True(answer.GetProperty("result").GetString() == "success", $"{method} failed: {answer}");
        return answer.GetProperty("arguments");
    }

    /// <summary>A classic call that must fail; returns its result string.</summary>
    public async Task<string> FailAsync(string method, object? arguments = null)
    {
        JsonElement answer = await CallAsync(method, arguments);
        string result = answer.GetProperty("result").GetString()!;
        Assert.True(result != "success", $"{method} should have failed: {answer}");
        Assert.Equal(JsonValueKind.Object, answer.GetProperty("arguments").ValueKind);
        return result;
    }

    /// <summary>A JSON-RPC 2.0 call with an id; returns the whole answer.</summary>
    public async Task<JsonElement> JsonRpcAsync(string method, object? parameters = null, object? id = null)
    {
        var request = new Dictionary<string, object?> { ["jsonrpc"] = "2.0", ["method"] = method, ["id"] = id ?? 1 };
        if (parameters is not null) request["params"] = parameters;
        (HttpStatusCode status, JsonElement body) = await PostAsync(JsonSerializer.Serialize(request));
        Assert.Equal(HttpStatusCode.OK, status);
        return body;
    }

    /// <summary>torrent-get of one torrent (by hash) in the classic form.</summary>
    public async Task<JsonElement> TorrentAsync(string hash, params string[] fields)
    {
        JsonElement args = await OkAsync("torrent-get", new { ids = new[] { hash }, fields });
        return args.GetProperty("torrents").EnumerateArray().Single();
    }

    public void Dispose() => _http.Dispose();
}
