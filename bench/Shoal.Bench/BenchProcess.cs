using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Shoal.Bench;

/// <summary>
/// A benchmarked child: stdout/stderr captured (bounded), optional GNU time wrapper for exact CPU and
/// peak RSS at exit, and /proc-based sampling while it runs.
/// </summary>
internal sealed class BenchProcess : IDisposable
{
    private const int MaxLines = 2000;
    private readonly Process _process;
    private readonly string? _timeFile;
    private readonly object _gate = new(); // two reader threads append lines
    private readonly Queue<string> _lines = new();
    private TaskCompletionSource _lineArrived = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The shoal children's data folder for this benchmark run, deleted when the run ends.</summary>
    private static readonly Lazy<string> s_dataDirectory = new(() =>
    {
        string path = Directory.CreateTempSubdirectory("shoal-bench-data-").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(path, recursive: true); }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { }
        };
        return path;
    });

    private BenchProcess(Process process, string label, string? timeFile)
    {
        _process = process;
        Label = label;
        _timeFile = timeFile;
    }

    public string Label { get; }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public static BenchProcess Start(string label, string fileName, IEnumerable<string> arguments, string? timeFile,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        ProcessStartInfo info = GnuTime.StartInfo(fileName, arguments, timeFile);
        if (environment is not null) foreach ((string key, string value) in environment) info.Environment[key] = value;
        info.Environment["PYTHONUNBUFFERED"] = "1";
        info.Environment["PYTHONDONTWRITEBYTECODE"] = "1";
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["NO_COLOR"] = "1";
        // A shoal child keeps its resume files and DHT state in its data folder, by default the user's
        // ~/.local/share/shoal: a benchmark's throw-away torrents belong in a folder of the run instead.
        info.Environment.TryAdd("SHOAL_DATA_DIR", s_dataDirectory.Value);

        var process = new Process { StartInfo = info };
        var child = new BenchProcess(process, label, timeFile);
        process.OutputDataReceived += (_, e) => child.OnLine(e.Data, "");
        process.ErrorDataReceived += (_, e) => child.OnLine(e.Data, "stderr: ");
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>The pid doing the work: the child of /usr/bin/time when wrapped.</summary>
    public int WorkerPid => GnuTime.WorkerPid(_process, _timeFile);

    /// <summary>Waits for a stdout line that satisfies <paramref name="match"/>.</summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        var seen = new HashSet<string>(); // lines already tested (identical lines need testing once)
        while (true)
        {
            Task arrived;
            lock (_gate)
            {
                foreach (var line in _lines)
                {
                    if (seen.Add(line) && match(line)) return line;
                }
                arrived = _lineArrived.Task;
            }
            if (_process.HasExited && !arrived.IsCompleted)
            {
                await Task.Delay(200).ConfigureAwait(false); // let the last lines drain
                lock (_gate)
                {
                    foreach (var line in _lines) if (match(line)) return line;
                }
                throw new BenchFailedException($"{Label}: exited ({_process.ExitCode}) before {what}\n{Tail()}");
            }
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) throw new BenchFailedException($"{Label}: no {what} within {timeout.TotalSeconds:0} s\n{Tail()}");
            await Task.WhenAny(arrived, Task.Delay(TimeSpan.FromMilliseconds(Math.Min(500, left.TotalMilliseconds)))).ConfigureAwait(false);
        }
    }

    /// <summary>Waits for exit; kills the tree and throws on timeout.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
            return _process.ExitCode;
        }
        catch (OperationCanceledException)
        {
            Kill();
            throw new BenchFailedException($"{Label}: still running after {timeout.TotalSeconds:0} s (killed)\n{Tail()}");
        }
    }

    /// <summary>
    /// CPU seconds (user+system, all threads), peak RSS (VmHWM) and current anonymous RSS (RssAnon) of a live
    /// process, from /proc. RssAnon leaves out file pages a client maps (libtorrent 2.0 mmaps the torrent's files).
    /// </summary>
    public static (double CpuSeconds, long PeakRssBytes, long AnonRssBytes)? Sample(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // Fields after the ")" that closes the command name: state is field 3, utime 14, stime 15.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            long hwm = 0, anon = 0;
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal)) hwm = KiB(line, 6);
                else if (line.StartsWith("RssAnon:", StringComparison.Ordinal)) anon = KiB(line, 8);
            }
            return (ticks / (double)ClockTicksPerSecond, hwm, anon);
        }
        catch (IOException)
        {
            return null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static long KiB(string line, int skip) =>
        long.Parse(line.AsSpan(skip).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture) * 1024;

    /// <summary>What GNU time wrote: (wall s, CPU s, peak RSS bytes), or null when not wrapped or unreadable.</summary>
    public (double Wall, double Cpu, double System, long PeakRss)? TimeReport() => GnuTime.Read(_timeFile);

    public void CloseStandardInput()
    {
        try
        {
            _process.StandardInput.Close();
        }
        catch (IOException)
        {
        }
    }

    /// <summary>
    /// SIGTERM to the worker: shoal stops cleanly on it, as on Ctrl+C. Not SIGINT: a benchmark started in the background
    /// by a shell without job control (`cmd &amp;` in a script, nohup) runs with SIGINT ignored, the runtime keeps it
    /// ignored in every child, and a daemon then never stopped (the suite's daemon benchmark timed out that way).
    /// </summary>
    public void Terminate()
    {
        if (!_process.HasExited) _ = kill(WorkerPid, 15);
    }

    public void Kill()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
        }
    }

    public string Tail(int count = 25)
    {
        lock (_gate)
        {
            var text = new StringBuilder();
            foreach (var line in _lines.Skip(Math.Max(0, _lines.Count - count))) text.Append("  | ").AppendLine(line);
            return text.ToString();
        }
    }

    public void Dispose()
    {
        Kill();
        _process.WaitForExit(TimeSpan.FromSeconds(10));
        _process.Dispose();
    }

    private void OnLine(string? line, string prefix)
    {
        if (line is null) return;
        TaskCompletionSource wake;
        lock (_gate)
        {
            if (_lines.Count >= MaxLines) _lines.Dequeue();
            _lines.Enqueue(prefix + line);
            wake = _lineArrived;
            _lineArrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        wake.TrySetResult();
    }

    private static readonly long ClockTicksPerSecond = sysconf(2) is > 0 and var t ? t : 100; // _SC_CLK_TCK

    [DllImport("libc")]
#pragma warning disable SYSLIB1054 // LibraryImport needs AllowUnsafeBlocks
    private static extern long sysconf(int name);

    [DllImport("libc")]
    private static extern int kill(int pid, int sig);
#pragma warning restore SYSLIB1054
}
