using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Shoal.Daemon.Http;
using Shoal.Daemon.Security;

namespace Shoal.Cli.Remote;

/// <summary>
/// The CLI's side of the daemon's native API: logs in when the daemon asks for a password, keeps the session cookie
/// and the CSRF token, and turns the daemon's error answers into one-line CLI errors.
/// </summary>
internal sealed class DaemonClient : IDisposable
{
    /// <summary>Where the client verbs look for a daemon unless told otherwise.</summary>
    public static readonly Uri DefaultRemote = new("http://127.0.0.1:9091/");

    private readonly HttpClient _http;
    private string _csrf = "";

    private DaemonClient(HttpClient http, Uri remote)
    {
        _http = http;
        Remote = remote;
    }

    /// <summary>The daemon's address.</summary>
    public Uri Remote { get; }

    /// <summary>Connects to the daemon at <paramref name="remote"/>, logging in with <paramref name="password"/> when asked.</summary>
    public static async Task<DaemonClient> ConnectAsync(Uri remote, string? password, CancellationToken cancellationToken)
    {
        var handler = new SocketsHttpHandler { CookieContainer = new CookieContainer(), UseCookies = true, ConnectTimeout = TimeSpan.FromSeconds(10) };
        var http = new HttpClient(handler) { BaseAddress = remote, Timeout = TimeSpan.FromMinutes(5) };
        var client = new DaemonClient(http, remote);
        try
        {
            await client.LoginAsync(password, cancellationToken).ConfigureAwait(false);
            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    private async Task LoginAsync(string? password, CancellationToken cancellationToken)
    {
        using (HttpResponseMessage session = await SendAsync(new HttpRequestMessage(HttpMethod.Get, "api/v1/session"), cancellationToken).ConfigureAwait(false))
        {
            if (session.IsSuccessStatusCode)
            {
                _csrf = (await ReadAsync(session, ApiJson.Default.SessionInfo, cancellationToken).ConfigureAwait(false)).CsrfToken;
                return;
            }
            if (session.StatusCode != HttpStatusCode.Unauthorized) throw await FailureAsync(session, cancellationToken).ConfigureAwait(false);
        }
        if (password is null)
            throw new CliException($"the daemon at {Remote} asks for a password: put it in ${PasswordSource.EnvironmentVariable} or a file given with --password-file", ExitCodes.Usage);
        using var login = new HttpRequestMessage(HttpMethod.Post, "api/v1/auth/login")
        {
            Content = JsonContent.Create(new LoginRequest(password), ApiJson.Default.LoginRequest),
        };
        using HttpResponseMessage answer = await SendAsync(login, cancellationToken).ConfigureAwait(false);
        if (!answer.IsSuccessStatusCode) throw await FailureAsync(answer, cancellationToken).ConfigureAwait(false);
        _csrf = (await ReadAsync(answer, ApiJson.Default.SessionInfo, cancellationToken).ConfigureAwait(false)).CsrfToken;
    }

    /// <summary>GET a JSON answer.</summary>
    public async Task<T> GetAsync<T>(string path, JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        using HttpResponseMessage response = await SendAsync(new HttpRequestMessage(HttpMethod.Get, path), cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode) throw await FailureAsync(response, cancellationToken).ConfigureAwait(false);
        return await ReadAsync(response, type, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>GET the raw JSON text (for --json output, passed through as the daemon wrote it).</summary>
    public async Task<string> GetTextAsync(string path, CancellationToken cancellationToken)
    {
        using HttpResponseMessage response = await SendAsync(new HttpRequestMessage(HttpMethod.Get, path), cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode) throw await FailureAsync(response, cancellationToken).ConfigureAwait(false);
        return await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>POST a JSON body (with the CSRF token) and read a JSON answer.</summary>
    public async Task<TAnswer> PostAsync<TBody, TAnswer>(string path, TBody body, JsonTypeInfo<TBody> bodyType, JsonTypeInfo<TAnswer> answerType, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body, bodyType) };
        request.Headers.Add(DaemonSecurity.CsrfHeader, _csrf);
        using HttpResponseMessage response = await SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode) throw await FailureAsync(response, cancellationToken).ConfigureAwait(false);
        return await ReadAsync(response, answerType, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>POST a multipart form (with the CSRF token) and read a JSON answer; the form is disposed.</summary>
    public async Task<TAnswer> PostFormAsync<TAnswer>(string path, MultipartFormDataContent form, JsonTypeInfo<TAnswer> answerType, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = form };
        request.Headers.Add(DaemonSecurity.CsrfHeader, _csrf);
        using HttpResponseMessage response = await SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode) throw await FailureAsync(response, cancellationToken).ConfigureAwait(false);
        return await ReadAsync(response, answerType, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The exit code of an HTTP status the daemon answered: its client's mistake (usage) or not (failure).</summary>
    public static int ExitCodeOf(int status) => status is >= 400 and < 500 and not 429 ? ExitCodes.Usage : ExitCodes.Failure;

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using (request)
        {
            try
            {
                return await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException ex) when (ex.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused } || ex.HttpRequestError == HttpRequestError.ConnectionError)
            {
                throw new CliException($"no daemon answers at {Remote} (start one with 'shoal daemon', or give --remote URL)", ExitCodes.Failure, ex);
            }
            catch (HttpRequestException ex)
            {
                throw new CliException($"talking to the daemon at {Remote} failed: {ex.Message}", ExitCodes.Failure, ex);
            }
            catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
            {
                throw new CliException($"the daemon at {Remote} did not answer in time", ExitCodes.Failure, ex);
            }
        }
    }

    private async Task<T> ReadAsync<T>(HttpResponseMessage response, JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        try
        {
            return await response.Content.ReadFromJsonAsync(type, cancellationToken).ConfigureAwait(false)
                ?? throw new CliException($"the daemon at {Remote} answered null", ExitCodes.Failure);
        }
        catch (JsonException ex)
        {
            throw new CliException($"{Remote} does not answer like a Shoal daemon: {ex.Message}", ExitCodes.Failure, ex);
        }
    }

    private async Task<CliException> FailureAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        string message;
        try
        {
            ErrorBody? body = await response.Content.ReadFromJsonAsync(ApiJson.Default.ErrorBody, cancellationToken).ConfigureAwait(false);
            message = body?.Error ?? response.ReasonPhrase ?? "error";
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException or InvalidOperationException)
        {
            message = $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}";
        }
        return new CliException(message, ExitCodeOf((int)response.StatusCode));
    }

    public void Dispose() => _http.Dispose();
}
