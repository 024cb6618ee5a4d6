using System.Net;
using System.Text;
using System.Text.Json;
using Shoal.Tests.Daemon;
using Shoal.Tests.Interop;

namespace Shoal.Tests.Dialects;

/// <summary>
/// Transmission's RPC over real HTTP: the session-id handshake, Basic authentication with the throttle, the Host
/// check, and the two request forms (classic and JSON-RPC 2.0 with batches and notifications) with their errors.
/// </summary>
public sealed class TransmissionProtocolTests : IAsyncLifetime
{
    private readonly TempFolder _folder = new("shoal-tr-protocol");
    private TestDaemon _daemon = null!;

    public async Task InitializeAsync() => _daemon = await TestDaemon.StartAsync(_folder);

    public async Task DisposeAsync()
    {
        await _daemon.DisposeAsync();
        _folder.Dispose();
    }

    [Fact]
    public async Task A_request_without_the_session_id_gets_409_with_it_then_the_same_request_succeeds()
    {
        using var client = new TransmissionClient(_daemon.Address);
        using HttpResponseMessage first = await client.PostRawAsync("""{"method":"session-get","tag":5}""");
        Assert.Equal(HttpStatusCode.Conflict, first.StatusCode);
        string id = first.Headers.GetValues("X-Transmission-Session-Id").Single();
        Assert.True(id.Length >= 32);
        Assert.Equal("6.0.0", first.Headers.GetValues("X-Transmission-Rpc-Version").Single());

        client.SessionId = "wrong";
        using HttpResponseMessage wrong = await client.PostRawAsync("""{"method":"session-get"}""");
        Assert.Equal(HttpStatusCode.Conflict, wrong.StatusCode);

        client.SessionId = id;
        // transmission-remote posts to the path with a trailing slash and a form content type.
        using var request = new HttpRequestMessage(HttpMethod.Post, "transmission/rpc/") { Content = new StringContent("""{"method":"session-get","tag":5}""", Encoding.UTF8, "application/x-www-form-urlencoded") };
        request.Headers.Add("X-Transmission-Session-Id", id);
        using HttpResponseMessage ok = await client.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        JsonElement body = JsonDocument.Parse(await ok.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("success", body.GetProperty("result").GetString());
        Assert.Equal(5, body.GetProperty("tag").GetInt32());
        Assert.Equal(id, body.GetProperty("arguments").GetProperty("session-id").GetString());

        // Sonarr asks for the id with a GET and expects the 409.
        using HttpResponseMessage get = await new HttpClient { BaseAddress = _daemon.Address }.GetAsync("transmission/rpc");
        Assert.Equal(HttpStatusCode.Conflict, get.StatusCode);
        Assert.Equal(id, get.Headers.GetValues("X-Transmission-Session-Id").Single());
    }

    [Fact]
    public async Task A_foreign_host_header_is_refused_before_anything()
    {
        using var client = new TransmissionClient(_daemon.Address);
        using var request = new HttpRequestMessage(HttpMethod.Post, "transmission/rpc") { Content = new StringContent("{}") };
        request.Headers.Host = "evil.example:9091";
        using HttpResponseMessage response = await client.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.MisdirectedRequest, response.StatusCode);
        Assert.False(response.Headers.Contains("X-Transmission-Session-Id"));
    }

    [Fact]
    public async Task The_classic_form_answers_errors_in_result_and_never_a_500()
    {
        using var client = new TransmissionClient(_daemon.Address);
        JsonElement unknown = await client.CallAsync("no-such-method", tag: 9);
        Assert.StartsWith("method name not recognized", unknown.GetProperty("result").GetString());
        Assert.Equal(9, unknown.GetProperty("tag").GetInt32());
        Assert.Equal("no method name", (await client.PostAsync("""{"arguments":{}}""")).Body.GetProperty("result").GetString());
        Assert.Equal("no fields specified", await client.FailAsync("torrent-get", new { }));
        Assert.Contains("must be", await client.FailAsync("torrent-get", new { fields = "id" }));
        Assert.Contains("must be", await client.FailAsync("session-set", new Dictionary<string, object> { ["speed-limit-down"] = "fast" }));
        Assert.Equal("no filename or metainfo specified", await client.FailAsync("torrent-add", new { }));
        Assert.StartsWith("invalid or corrupt torrent file", await client.FailAsync("torrent-add", new { metainfo = "not base64!" }));
        Assert.StartsWith("invalid or corrupt torrent file", await client.FailAsync("torrent-add", new { metainfo = Convert.ToBase64String("d4:infoi1ee"u8.ToArray()) }));

        (HttpStatusCode status, JsonElement body) = await client.PostAsync("this is not json");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(-32700, body.GetProperty("error").GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task JSON_RPC_answers_results_errors_batches_and_notifications()
    {
        using var client = new TransmissionClient(_daemon.Address);
        JsonElement answer = await client.JsonRpcAsync("session_get", new { fields = new[] { "version", "rpc_version_semver", "download_dir" } }, id: "abc");
        Assert.Equal("2.0", answer.GetProperty("jsonrpc").GetString());
        Assert.Equal("abc", answer.GetProperty("id").GetString());
        JsonElement result = answer.GetProperty("result");
        Assert.Equal("6.0.0", result.GetProperty("rpc_version_semver").GetString());
        Assert.StartsWith("4.1.0 (Shoal ", result.GetProperty("version").GetString());
        Assert.Equal(_daemon.Downloads, result.GetProperty("download_dir").GetString());
        Assert.False(answer.TryGetProperty("error", out _));

        JsonElement missing = await client.JsonRpcAsync("no_such_method", id: 7);
        Assert.Equal(-32601, missing.GetProperty("error").GetProperty("code").GetInt32());
        Assert.Equal("Method not found", missing.GetProperty("error").GetProperty("message").GetString());
        Assert.Equal(7, missing.GetProperty("id").GetInt32());

        JsonElement bad = await client.JsonRpcAsync("torrent_get", new { });
        Assert.Equal(-32602, bad.GetProperty("error").GetProperty("code").GetInt32());
        Assert.Equal("no fields specified", bad.GetProperty("error").GetProperty("data").GetProperty("error_string").GetString());

        JsonElement corrupt = await client.JsonRpcAsync("torrent_add", new { metainfo = Convert.ToBase64String("d4:infoi1ee"u8.ToArray()) });
        Assert.Equal(9, corrupt.GetProperty("error").GetProperty("code").GetInt32());

        (_, JsonElement positional) = await client.PostAsync("""{"jsonrpc":"2.0","method":"session_get","params":[1],"id":3}""");
        Assert.Equal(-32602, positional.GetProperty("error").GetProperty("code").GetInt32());
        (_, JsonElement badVersion) = await client.PostAsync("""{"jsonrpc":"1.0","method":"session_get","id":3}""");
        Assert.Equal(-32600, badVersion.GetProperty("error").GetProperty("code").GetInt32());
        Assert.Equal(JsonValueKind.Null, badVersion.GetProperty("id").ValueKind);
        (_, JsonElement badId) = await client.PostAsync("""{"jsonrpc":"2.0","method":"session_get","id":{}}""");
        Assert.Equal(-32600, badId.GetProperty("error").GetProperty("code").GetInt32());

        // A batch: answers in order; the notification (no id) gets none; a bad entry gets its own error.
        (HttpStatusCode status, JsonElement batch) = await client.PostAsync("""
            [{"jsonrpc":"2.0","method":"session_stats","id":1},
             {"jsonrpc":"2.0","method":"session_set","params":{"alt_speed_enabled":true}},
             {"method":"session_get"},
             {"jsonrpc":"2.0","method":"session_get","params":{"fields":["alt_speed_enabled"]},"id":2}]
            """);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(3, batch.GetArrayLength());
        Assert.Equal(1, batch[0].GetProperty("id").GetInt32());
        Assert.True(batch[0].GetProperty("result").GetProperty("torrent_count").ValueKind == JsonValueKind.Number);
        Assert.Equal(-32600, batch[1].GetProperty("error").GetProperty("code").GetInt32());
        Assert.True(batch[2].GetProperty("result").GetProperty("alt_speed_enabled").GetBoolean());
        Assert.True(_daemon.Host.Service.Settings.AltSpeedEnabled);

        // Only notifications: 204 and no body. An empty batch is one Invalid Request.
        (status, _) = await client.PostAsync("""{"jsonrpc":"2.0","method":"session_set","params":{"alt_speed_enabled":false}}""");
        Assert.Equal(HttpStatusCode.NoContent, status);
        Assert.False(_daemon.Host.Service.Settings.AltSpeedEnabled);
        (status, _) = await client.PostAsync("""[{"jsonrpc":"2.0","method":"session_get"}]""");
        Assert.Equal(HttpStatusCode.NoContent, status);
        (_, JsonElement empty) = await client.PostAsync("[]");
        Assert.Equal(-32600, empty.GetProperty("error").GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task With_a_password_Basic_authentication_is_required_and_failures_are_throttled()
    {
        await _daemon.DisposeAsync();
        _daemon = await TestDaemon.StartAsync(_folder, o => o with { Password = "correct horse" });

        using var anonymous = new TransmissionClient(_daemon.Address);
        using (HttpResponseMessage response = await anonymous.PostRawAsync("""{"method":"session-get"}"""))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("Basic", response.Headers.WwwAuthenticate.Single().Scheme);
            Assert.False(response.Headers.Contains("X-Transmission-Session-Id"));
        }

        using var right = new TransmissionClient(_daemon.Address, "correct horse");
        Assert.Equal("success", (await right.CallAsync("session-get")).GetProperty("result").GetString());

        using var wrong = new TransmissionClient(_daemon.Address, "battery staple");
        for (int i = 0; i < 5; i++)
        {
            using HttpResponseMessage refused = await wrong.PostRawAsync("""{"method":"session-get"}""");
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }
        using HttpResponseMessage throttled = await wrong.PostRawAsync("""{"method":"session-get"}""");
        Assert.Equal(HttpStatusCode.Forbidden, throttled.StatusCode);
        Assert.True(throttled.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        // The throttle is per address: the right password from it waits too.
        using HttpResponseMessage blocked = await right.PostRawAsync("""{"method":"session-get"}""");
        Assert.Equal(HttpStatusCode.Forbidden, blocked.StatusCode);
    }

    [Fact]
    public async Task A_GET_with_the_session_id_is_405_and_a_huge_body_is_refused_cleanly()
    {
        using var client = new TransmissionClient(_daemon.Address);
        await client.CallAsync("session-get");
        using var get = new HttpRequestMessage(HttpMethod.Get, "transmission/rpc");
        get.Headers.Add("X-Transmission-Session-Id", client.SessionId);
        using HttpResponseMessage response = await client.Http.SendAsync(get);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Contains("POST", response.Content.Headers.Allow);

        // Deeply nested JSON is a parse error, not a crash.
        (HttpStatusCode status, JsonElement body) = await client.PostAsync(new string('[', 100) + new string(']', 100));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(-32700, body.GetProperty("error").GetProperty("code").GetInt32());
    }
}
