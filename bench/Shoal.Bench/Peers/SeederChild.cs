using System.Diagnostics;
using System.Globalization;

namespace Shoal.Bench.Peers;

/// <summary>The <c>peers --serve</c> child seen from the benchmark: start, talk over stdin/stdout, read /proc.</summary>
internal sealed class SeederChild : IDisposable
{
    private readonly Process _process;
    private readonly System.Threading.Channels.Channel<string> _lines =
        System.Threading.Channels.Channel.CreateBounded<string>(new System.Threading.Channels.BoundedChannelOptions(1000)
        {
            FullMode = System.Threading.Channels.BoundedChannelFullMode.DropOldest,
        });

    private SeederChild(Process process) => _process = process;

    public int Pid => _process.Id;

    public int Port { get; private set; }

    public static async Task<SeederChild> StartAsync(string torrent, string data, int maxConnections)
    {
        // Run this very assembly again in its serve mode, under the same dotnet host.
        var host = Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";
        var info = new ProcessStartInfo(host)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in (string[])[typeof(SeederChild).Assembly.Location, "peers", "--serve", "--torrent", torrent, "--data", data,
                     "--max-connections", maxConnections.ToString(CultureInfo.InvariantCulture)])
        {
            info.ArgumentList.Add(a);
        }
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        var process = Process.Start(info) ?? throw new BenchFailedException("could not start the seeder child");
        var child = new SeederChild(process);
        process.OutputDataReceived += (_, e) => { if (e.Data is { } line) child._lines.Writer.TryWrite(line); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is { } line) Console.Error.WriteLine("  seeder: " + line); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var ready = await child.ReadLineAsync("READY", TimeSpan.FromMinutes(5)).ConfigureAwait(false);
            child.Port = int.Parse(ready.AsSpan(6), CultureInfo.InvariantCulture);
            return child;
        }
        catch
        {
            child.Dispose();
            throw;
        }
    }

    /// <summary>The seeder's connected peers and uploaded bytes, as its torrent status reports them.</summary>
    public async Task<(int Peers, long Uploaded)> StatAsync()
    {
        await _process.StandardInput.WriteLineAsync("stat").ConfigureAwait(false);
        await _process.StandardInput.FlushAsync().ConfigureAwait(false);
        var parts = (await ReadLineAsync("STAT", TimeSpan.FromSeconds(30)).ConfigureAwait(false)).Split(' ');
        return (int.Parse(parts[1], CultureInfo.InvariantCulture), long.Parse(parts[2], CultureInfo.InvariantCulture));
    }

    /// <summary>A full, blocking, compacting, decommitting collection in the seeder.</summary>
    public async Task CollectAsync()
    {
        await _process.StandardInput.WriteLineAsync("gc").ConfigureAwait(false);
        await _process.StandardInput.FlushAsync().ConfigureAwait(false);
        await ReadLineAsync("GC", TimeSpan.FromSeconds(60)).ConfigureAwait(false);
    }

    /// <summary>VmRSS, RssAnon (bytes) and user+system CPU seconds of the seeder, from /proc.</summary>
    public (long Rss, long Anon, double Cpu) Sample()
    {
        long rss = 0, anon = 0;
        foreach (var line in File.ReadLines($"/proc/{Pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) rss = KiB(line, 6);
            else if (line.StartsWith("RssAnon:", StringComparison.Ordinal)) anon = KiB(line, 8);
        }
        var cpu = BenchProcess.Sample(Pid)?.CpuSeconds ?? throw new BenchFailedException("seeder process is gone");
        return (rss, anon, cpu);
    }

    private static long KiB(string line, int skip) =>
        long.Parse(line.AsSpan(skip).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture) * 1024;

    private async Task<string> ReadLineAsync(string prefix, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            while (true)
            {
                var line = await _lines.Reader.ReadAsync(cts.Token).ConfigureAwait(false);
                if (line.StartsWith(prefix, StringComparison.Ordinal)) return line;
            }
        }
        catch (OperationCanceledException)
        {
            throw new BenchFailedException(_process.HasExited
                ? $"seeder exited ({_process.ExitCode}) before '{prefix}'"
                : $"seeder: no '{prefix}' line within {timeout.TotalSeconds:0} s");
        }
    }

    public void Dispose()
    {
        try
        {
            _process.StandardInput.Close();
            if (!_process.WaitForExit(TimeSpan.FromSeconds(15))) _process.Kill(entireProcessTree: true);
        }
        catch (IOException)
        {
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
    }
}
