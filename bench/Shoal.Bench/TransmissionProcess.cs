using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Shoal.Bench;

/// <summary>
/// transmission-cli as a benchmarked child. Its status goes to stdout as one line rewritten in place with
/// carriage returns, which the line events of <see cref="Process"/> do not split on; so stdout is read here,
/// split on both CR and LF, and the moments of the first progress and of "Seeding" are recorded as they arrive.
/// </summary>
internal sealed class TransmissionProcess : IDisposable
{
    private const int TailLines = 20;
    private readonly Process _process;
    private readonly string? _timeFile;
    private readonly Stopwatch _clock;
    private readonly Queue<string> _tail = new(); // only the reader task touches it until it ends
    private readonly Task _reader;

    private TransmissionProcess(Process process, string? timeFile, Stopwatch clock)
    {
        _process = process;
        _timeFile = timeFile;
        _clock = clock;
        _reader = Task.Run(ReadAsync);
    }

    /// <summary>Clock time of the first status line above 0.0%.</summary>
    public TaskCompletionSource<TimeSpan> FirstProgress { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Clock time of the first "Seeding" status line: every piece verified.</summary>
    public TaskCompletionSource<TimeSpan> Seeding { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool HasExited => _process.HasExited;

    /// <summary>The transmission-cli pid (the child of /usr/bin/time when wrapped).</summary>
    public int WorkerPid => GnuTime.WorkerPid(_process, _timeFile);

    public static TransmissionProcess Start(string fileName, IEnumerable<string> arguments, string? timeFile, Stopwatch clock)
    {
        ProcessStartInfo info = GnuTime.StartInfo(fileName, arguments, timeFile);
        var process = Process.Start(info) ?? throw new BenchFailedException($"could not start {fileName}");
        process.StandardInput.Close();
        process.ErrorDataReceived += (_, _) => { }; // messages go to stdout at message-level 1; drain stderr anyway
        process.BeginErrorReadLine();
        return new TransmissionProcess(process, timeFile, clock);
    }

    private async Task ReadAsync()
    {
        var reader = _process.StandardOutput;
        var buffer = new char[4096];
        var line = new StringBuilder();
        int read;
        while ((read = await reader.ReadAsync(buffer).ConfigureAwait(false)) > 0)
        {
            for (var i = 0; i < read; i++)
            {
                var c = buffer[i];
                if (c is '\r' or '\n')
                {
                    if (line.Length > 0) OnLine(line.ToString());
                    line.Clear();
                }
                else if (line.Length < 1000)
                {
                    line.Append(c);
                }
            }
        }
        if (line.Length > 0) OnLine(line.ToString());
        Seeding.TrySetException(new BenchFailedException("transmission-cli ended its output before \"Seeding\"\n" + Tail()));
        FirstProgress.TrySetCanceled();
    }

    private void OnLine(string line)
    {
        var now = _clock.Elapsed;
        var text = line.TrimStart();
        if (text.StartsWith("Seeding", StringComparison.Ordinal)) Seeding.TrySetResult(now);
        else if (text.StartsWith("Progress: ", StringComparison.Ordinal) && !text.StartsWith("Progress: 0.0%", StringComparison.Ordinal)) FirstProgress.TrySetResult(now);
        lock (_tail)
        {
            if (_tail.Count == 0 || _tail.Last() != line)
            {
                if (_tail.Count >= TailLines) _tail.Dequeue();
                _tail.Enqueue(line);
            }
        }
    }

    public string Tail()
    {
        lock (_tail) return string.Concat(_tail.Select(l => "  | " + l + "\n"));
    }

    /// <summary>SIGINT: transmission-cli closes the torrent (flushing its cache) and exits.</summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        if (!_process.HasExited) _ = kill(WorkerPid, 2);
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            throw new BenchFailedException($"transmission-cli did not stop within {timeout.TotalSeconds:0} s of SIGINT");
        }
        await _reader.ConfigureAwait(false);
    }

    /// <summary>CPU seconds and peak RSS from GNU time, or null when not wrapped.</summary>
    public (double Cpu, long PeakRss)? TimeReport() => GnuTime.Read(_timeFile) is { } t ? (t.Cpu, t.PeakRss) : null;

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            _process.WaitForExit(TimeSpan.FromSeconds(10));
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
    }

    [DllImport("libc")]
#pragma warning disable SYSLIB1054 // LibraryImport needs AllowUnsafeBlocks
    private static extern int kill(int pid, int sig);
#pragma warning restore SYSLIB1054
}
