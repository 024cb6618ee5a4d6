using System.Text.Json;
using Shoal.Tests.Interop;

namespace Shoal.Tests.Daemon;

/// <summary><c>shoal daemon</c> as a child process on 127.0.0.1, and the CLI's client verbs run against it.</summary>
internal sealed class DaemonProcess : IDisposable
{
    private DaemonProcess(ChildProcess process, Uri address)
    {
        Process = process;
        Address = address;
    }

    public ChildProcess Process { get; }

    public Uri Address { get; }

    /// <summary>Starts the daemon with its data in <paramref name="dataDirectory"/> and waits for its HTTP address.</summary>
    public static async Task<DaemonProcess> StartAsync(string dataDirectory, string downloads, params string[] extra)
    {
        ChildProcess process = ShoalCli.Start(["daemon", "--data-dir", dataDirectory, "-o", downloads, "--port", "0", "--bind", "127.0.0.1",
            "--web-port", "0", "--no-dht", "--no-lsd", "--verbose", .. extra]);
        try
        {
            string line = await process.WaitForLineAsync(l => l.Contains("HTTP interface at ", StringComparison.Ordinal), TimeSpan.FromSeconds(60), "the daemon's address");
            string url = line[(line.IndexOf("HTTP interface at ", StringComparison.Ordinal) + 18)..].Split(' ')[0];
            return new DaemonProcess(process, new Uri(url));
        }
        catch
        {
            process.Dispose();
            throw;
        }
    }

    /// <summary>Runs <c>shoal VERB args --remote ADDRESS</c>; fails the test on a non-zero exit unless <paramref name="allowFailure"/>.</summary>
    public async Task<ProcessResult> CliAsync(string[] arguments, bool allowFailure = false)
    {
        ProcessResult result = await ShoalCli.RunAsync(TimeSpan.FromSeconds(60), [.. arguments, "--remote", Address.ToString()]);
        if (!allowFailure) Assert.True(result.ExitCode == 0, $"shoal {string.Join(' ', arguments)} failed\n{result.Transcript}\n{Process.Transcript(30)}");
        return result;
    }

    /// <summary>The rows of <c>shoal list --json</c>, by info-hash.</summary>
    public async Task<Dictionary<string, JsonElement>> ListAsync()
    {
        ProcessResult result = await CliAsync(["list", "--json"]);
        using JsonDocument json = JsonDocument.Parse(string.Join('\n', result.StandardOutput));
        return json.RootElement.EnumerateArray().ToDictionary(r => r.GetProperty("info_hash").GetString()!, r => r.Clone());
    }

    /// <summary>Polls the list until <paramref name="condition"/> holds for the row of <paramref name="infoHash"/>.</summary>
    public async Task<JsonElement> WaitForAsync(string infoHash, Func<JsonElement, bool> condition, string what, TimeSpan? timeout = null)
    {
        DateTime deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(120));
        JsonElement row = default;
        while (DateTime.UtcNow < deadline)
        {
            if ((await ListAsync()).TryGetValue(infoHash, out row) && condition(row)) return row;
            await Task.Delay(250);
        }
        Assert.Fail($"{what}: never happened; last row {row}\n{Process.Transcript(40)}");
        return row;
    }

    public void Dispose() => Process.Dispose();
}
