using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Shoal.Tests.Interop;

/// <summary>
/// A child process with stdin kept open (the libtorrent scripts stop when it closes), stdout and stderr
/// captured line by line, bounded waits, and the whole process tree killed on dispose.
/// </summary>
public sealed class ChildProcess : IDisposable
{
    /// <summary>Keeps memory bounded for chatty children: older lines are dropped past this count.</summary>
    private const int MaxLinesKept = 20_000;

    private readonly Process _process;
    private readonly object _gate = new(); // output arrives on two thread-pool threads at once
    private readonly List<string> _stdout = [];
    private readonly List<string> _stderr = [];
    private readonly TaskCompletionSource _stdoutClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stderrClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _lineArrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _disposed;

    private ChildProcess(Process process, string description)
    {
        _process = process;
        Description = description;
    }

    /// <summary>The command line, for messages.</summary>
    public string Description { get; }

    /// <summary>The process id.</summary>
    public int Id => _process.Id;

    /// <summary>True once the process has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>The exit code (only after exit).</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>A snapshot of the stdout lines so far.</summary>
    public IReadOnlyList<string> StandardOutputLines
    {
        get { lock (_gate) return [.. _stdout]; }
    }

    /// <summary>A snapshot of the stderr lines so far.</summary>
    public IReadOnlyList<string> StandardErrorLines
    {
        get { lock (_gate) return [.. _stderr]; }
    }

    /// <summary>Starts <paramref name="fileName"/> with <paramref name="arguments"/> in <paramref name="workingDirectory"/>.</summary>
    public static ChildProcess Start(string fileName, IEnumerable<string> arguments, string? workingDirectory = null,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        // Children must not inherit test-host switches that change their console behaviour.
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["NO_COLOR"] = "1";
        info.Environment["PYTHONUNBUFFERED"] = "1";
        info.Environment["PYTHONDONTWRITEBYTECODE"] = "1"; // keep the checkout clean
        if (environment is not null)
        {
            foreach (var (key, value) in environment) info.Environment[key] = value;
        }

        var description = fileName + " " + string.Join(' ', info.ArgumentList.Select(Quote));
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var child = new ChildProcess(process, description);
        process.OutputDataReceived += (_, e) => child.OnLine(e.Data, isError: false);
        process.ErrorDataReceived += (_, e) => child.OnLine(e.Data, isError: true);
        if (!process.Start()) throw new InvalidOperationException("could not start " + description);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Runs to completion (bounded by <paramref name="timeout"/>) and returns what it printed.</summary>
    public static async Task<ProcessResult> RunAsync(string fileName, IEnumerable<string> arguments, TimeSpan timeout,
        string? workingDirectory = null)
    {
        using var child = Start(fileName, arguments, workingDirectory);
        child.CloseStandardInput();
        var exitCode = await child.WaitForExitAsync(timeout).ConfigureAwait(false);
        return new ProcessResult(child.Description, exitCode, child.StandardOutputLines, child.StandardErrorLines);
    }

    /// <summary>Closes stdin (the libtorrent seeder stops when it sees end of file).</summary>
    public void CloseStandardInput()
    {
        try
        {
            _process.StandardInput.Close();
        }
        catch (IOException)
        {
            // Already gone: nothing left to tell.
        }
    }

    /// <summary>
    /// Waits for a stdout line matching <paramref name="match"/> and returns it. Throws with the
    /// output so far when the process exits first or <paramref name="timeout"/> passes.
    /// </summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        var seen = 0;
        while (true)
        {
            Task arrived;
            lock (_gate)
            {
                for (; seen < _stdout.Count; seen++)
                {
                    if (match(_stdout[seen])) return _stdout[seen];
                }
                arrived = _lineArrived.Task;
                // Lines trimmed from the front shift the index; rescanning a few is harmless.
                if (seen > _stdout.Count) seen = 0;
            }
            if (_stdoutClosed.Task.IsCompleted && arrived.IsCompleted is false)
            {
                throw new InteropException($"{what}: the process exited (code {SafeExitCode()}) before printing it.\n{Transcript()}");
            }
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                throw new InteropException($"{what}: not seen within {timeout.TotalSeconds:0} s.\n{Transcript()}");
            }
            await Task.WhenAny(arrived, _stdoutClosed.Task, Task.Delay(left)).ConfigureAwait(false);
        }
    }

    /// <summary>Waits for exit (all output read) and returns the exit code; kills the tree and throws on timeout.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
            await Task.WhenAll(_stdoutClosed.Task, _stderrClosed.Task).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Kill();
            throw new InteropException($"did not exit within {timeout.TotalSeconds:0} s (killed).\n{Transcript()}");
        }
        catch (TimeoutException)
        {
            // Output pipes held open by a grandchild: the exit code is still what counts.
        }
        return _process.ExitCode;
    }

    /// <summary>Sends SIGINT (Ctrl+C), the way a user stops a seeding shoal.</summary>
    public void Interrupt() => SendSignal(SigInt);

    /// <summary>Sends SIGTERM.</summary>
    public void Terminate() => SendSignal(SigTerm);

    /// <summary>Kills the whole process tree now.</summary>
    public void Kill()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Exited between the check and the kill.
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // Same race, reported by the OS.
        }
    }

    /// <summary>Command line, exit code and the last lines of stdout and stderr, for failure messages and test logs.</summary>
    public string Transcript(int maxLines = 60)
    {
        var stdout = StandardOutputLines;
        var stderr = StandardErrorLines;
        var text = new StringBuilder();
        text.Append("$ ").AppendLine(Description);
        text.Append("exit: ").AppendLine(HasExitedSafe() ? SafeExitCode() : "running");
        text.AppendLine($"--- stdout (last {Math.Min(maxLines, stdout.Count)} of {stdout.Count} lines)");
        foreach (var line in stdout.Skip(Math.Max(0, stdout.Count - maxLines))) text.AppendLine(line);
        text.AppendLine($"--- stderr (last {Math.Min(maxLines, stderr.Count)} of {stderr.Count} lines)");
        foreach (var line in stderr.Skip(Math.Max(0, stderr.Count - maxLines))) text.AppendLine(line);
        return text.ToString();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Kill();
        try
        {
            _process.WaitForExit(TimeSpan.FromSeconds(10));
        }
        catch (InvalidOperationException)
        {
            // Never started.
        }
        _process.Dispose();
    }

    private void OnLine(string? line, bool isError)
    {
        TaskCompletionSource wake;
        lock (_gate)
        {
            if (line is null)
            {
                (isError ? _stderrClosed : _stdoutClosed).TrySetResult();
                wake = _lineArrived;
                _lineArrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
            }
            else
            {
                var lines = isError ? _stderr : _stdout;
                if (lines.Count >= MaxLinesKept) lines.RemoveRange(0, MaxLinesKept / 4);
                lines.Add(line);
                if (isError) return;
                wake = _lineArrived;
                _lineArrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
        wake.TrySetResult();
    }

    private bool HasExitedSafe()
    {
        try
        {
            return _process.HasExited;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private string SafeExitCode() => HasExitedSafe() ? _process.ExitCode.ToString(System.Globalization.CultureInfo.InvariantCulture) : "?";

    private void SendSignal(int signal)
    {
        if (HasExitedSafe()) return;
        if (NativeMethods.kill(_process.Id, signal) != 0)
        {
            throw new InteropException($"kill({_process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    private static string Quote(string argument) =>
        argument.Length > 0 && argument.All(c => char.IsLetterOrDigit(c) || "-_./:=@%+,".Contains(c)) ? argument : "'" + argument.Replace("'", "'\\''") + "'";

    private const int SigInt = 2;
    private const int SigTerm = 15;

    private static class NativeMethods
    {
        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
#pragma warning disable SYSLIB1054 // LibraryImport needs AllowUnsafeBlocks, which the test project does not set.
        public static extern int kill(int pid, int sig);
#pragma warning restore SYSLIB1054
    }
}
