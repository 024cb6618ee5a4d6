using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Shoal.Tests.Trackers;

/// <summary>
/// A minimal HTTP tracker on 127.0.0.1 that answers every announce with an empty peer list and keeps each request's
/// query parameters, so a test can read exactly what a client told its tracker.
/// </summary>
internal sealed class RecordingHttpTracker : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly int _interval;

    public RecordingHttpTracker(int intervalSeconds = 1800)
    {
        _interval = intervalSeconds;
        _listener.Start();
        _loop = Task.Run(AcceptLoopAsync);
    }

    public Uri AnnounceUrl => new($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/announce");

    /// <summary>Every announce so far, in arrival order, as its query parameters (values URL-decoded as Latin-1 text).</summary>
    public ConcurrentQueue<IReadOnlyDictionary<string, string>> Announces { get; } = new();

    public IReadOnlyDictionary<string, string>[] Snapshot() => [.. Announces];

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                NetworkStream stream = client.GetStream();
                var head = new StringBuilder();
                byte[] buffer = new byte[4096];
                while (!head.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
                {
                    int n = await stream.ReadAsync(buffer, _stop.Token);
                    if (n == 0) return;
                    head.Append(Encoding.Latin1.GetString(buffer, 0, n));
                }
                string target = head.ToString().Split(' ')[1];
                int q = target.IndexOf('?', StringComparison.Ordinal);
                var query = new Dictionary<string, string>(StringComparer.Ordinal);
                if (q >= 0)
                {
                    foreach (string pair in target[(q + 1)..].Split('&'))
                    {
                        int eq = pair.IndexOf('=', StringComparison.Ordinal);
                        if (eq > 0) query[pair[..eq]] = WebUtility.UrlDecode(pair[(eq + 1)..]);
                    }
                }
                Announces.Enqueue(query);
                byte[] body = Encoding.ASCII.GetBytes($"d8:intervali{_interval}e5:peers0:e");
                byte[] response = Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n");
                await stream.WriteAsync(response, _stop.Token);
                await stream.WriteAsync(body, _stop.Token);
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException)
            {
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        await _loop;
        _stop.Dispose();
    }
}
