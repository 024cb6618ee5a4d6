using System.Diagnostics;

namespace Shoal.Tests.Interop;

/// <summary>
/// What this machine offers for interop tests: the python that imports libtorrent, the transmission
/// tools, the repository's script folder and the shoal CLI next to the test assembly.
/// </summary>
/// <remarks>
/// Interop must run in CI: when a client is missing and the environment variable CI is "true",
/// <see cref="Require"/> throws (the test fails); elsewhere <see cref="InteropFactAttribute"/> skips.
/// </remarks>
public sealed class InteropEnvironment
{
    /// <summary>Probing starts processes and the answers cannot change during one test run, so it is done once.</summary>
    private static readonly Lazy<InteropEnvironment> Probed = new(Probe, LazyThreadSafetyMode.ExecutionAndPublication);

    private InteropEnvironment(
        bool isCi, string? repositoryRoot, string? pythonPath, string? libtorrentVersion, string? libtorrentProblem,
        string? transmissionShow, string? transmissionCreate, string? transmissionCli, string? transmissionProblem)
    {
        IsCi = isCi;
        RepositoryRoot = repositoryRoot;
        PythonPath = pythonPath;
        LibtorrentVersion = libtorrentVersion;
        LibtorrentProblem = libtorrentProblem;
        TransmissionShowPath = transmissionShow;
        TransmissionCreatePath = transmissionCreate;
        TransmissionCliPath = transmissionCli;
        TransmissionProblem = transmissionProblem;
    }

    /// <summary>transmission-remote (Debian package transmission-cli), the RPC client of Transmission.</summary>
    public string? TransmissionRemotePath { get; } = FindExecutable("transmission-remote");

    /// <summary>The environment of this test run.</summary>
    public static InteropEnvironment Current => Probed.Value;

    /// <summary>True when the environment variable CI is "true" or "1": missing clients then fail tests.</summary>
    public bool IsCi { get; }

    /// <summary>The folder holding Shoal.slnx, or null when the tests run outside a checkout.</summary>
    public string? RepositoryRoot { get; }

    /// <summary>tests/Shoal.Tests/Interop/scripts in the checkout.</summary>
    public string ScriptsDirectory =>
        Path.Combine(RepositoryRoot ?? throw new InvalidOperationException("Shoal.slnx not found above " + AppContext.BaseDirectory),
            "tests", "Shoal.Tests", "Interop", "scripts");

    /// <summary>The python interpreter that imports libtorrent, or null.</summary>
    public string? PythonPath { get; }

    /// <summary>libtorrent's version string, or null.</summary>
    public string? LibtorrentVersion { get; }

    /// <summary>Why libtorrent cannot be used, or null when it can.</summary>
    public string? LibtorrentProblem { get; }

    /// <summary>Path of transmission-show, or null.</summary>
    public string? TransmissionShowPath { get; }

    /// <summary>Path of transmission-create, or null.</summary>
    public string? TransmissionCreatePath { get; }

    /// <summary>Path of transmission-cli (the downloading/seeding client), or null.</summary>
    public string? TransmissionCliPath { get; }

    /// <summary>Why the transmission tools cannot be used, or null when they can.</summary>
    public string? TransmissionProblem { get; }

    /// <summary>The shoal CLI assembly copied next to the test assembly (Shoal.Tests references Shoal.Cli).</summary>
    public static string ShoalDllPath => Path.Combine(AppContext.BaseDirectory, "shoal.dll");

    /// <summary>Why the given clients cannot be used (one line), or null when all of them can.</summary>
    public string? ProblemWith(InteropClients clients)
    {
        var problems = new List<string>(2);
        if (clients.HasFlag(InteropClients.Libtorrent) && LibtorrentProblem is { } lt) problems.Add(lt);
        if (clients.HasFlag(InteropClients.Transmission) && TransmissionProblem is { } tr) problems.Add(tr);
        if (clients != InteropClients.None && RepositoryRoot is null)
        {
            problems.Add("the interop scripts were not found: no Shoal.slnx above " + AppContext.BaseDirectory);
        }
        return problems.Count == 0 ? null : string.Join("; ", problems);
    }

    /// <summary>Throws with a clear message when a client is missing; call it first in every interop test.</summary>
    public void Require(InteropClients clients)
    {
        if (ProblemWith(clients) is { } problem)
        {
            throw new InvalidOperationException(
                $"Interop client missing: {problem}. Interop tests must run in CI: install them with " +
                "'apt-get install -y python3-libtorrent transmission-cli' (see .ci/run).");
        }
    }

    private static InteropEnvironment Probe()
    {
        var ci = Environment.GetEnvironmentVariable("CI");
        var isCi = string.Equals(ci, "true", StringComparison.OrdinalIgnoreCase) || ci == "1";
        var root = FindRepositoryRoot();

        // Debian's python3-libtorrent installs into the system python, not into pyenv/venv ones that
        // may come first on PATH, so /usr/bin/python3 is tried first.
        string? python = null, version = null, ltProblem = null;
        // SHOAL_INTEROP_PYTHON replaces the search (point it at a missing file to try the "client missing" paths).
        string[] candidates = Environment.GetEnvironmentVariable("SHOAL_INTEROP_PYTHON") is { Length: > 0 } custom
            ? [custom]
            : ["/usr/bin/python3", "python3"];
        foreach (var candidate in candidates)
        {
            var (exitCode, output) = RunQuick(candidate, ["-c", "import libtorrent; print(libtorrent.__version__)"]);
            if (exitCode == 0 && output.Trim() is { Length: > 0 } v)
            {
                python = candidate;
                version = v;
                break;
            }
        }
        if (python is null) ltProblem = "no python3 that can 'import libtorrent' (Debian package python3-libtorrent)";

        string? show = FindExecutable("transmission-show"), create = FindExecutable("transmission-create"), cli = FindExecutable("transmission-cli"), trProblem = null;
        if (show is null || create is null || cli is null || FindExecutable("transmission-remote") is null)
            trProblem = "transmission-show/transmission-create/transmission-cli/transmission-remote not found (Debian package transmission-cli)";

        return new InteropEnvironment(isCi, root, python, version, ltProblem, show, create, cli, trProblem);
    }

    private static string? FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Shoal.slnx"))) return dir.FullName;
        }
        return null;
    }

    private static string? FindExecutable(string name)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var path = Path.Combine(dir, name);
            if (File.Exists(path)) return path;
        }
        return File.Exists("/usr/bin/" + name) ? "/usr/bin/" + name : null;
    }

    private static (int ExitCode, string Output) RunQuick(string fileName, string[] arguments)
    {
        try
        {
            var info = new ProcessStartInfo(fileName)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var argument in arguments) info.ArgumentList.Add(argument);
            using var process = Process.Start(info);
            if (process is null) return (-1, "");
            var stdout = process.StandardOutput.ReadToEndAsync();
            _ = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromSeconds(30)))
            {
                process.Kill(entireProcessTree: true);
                return (-1, "");
            }
            return (process.ExitCode, stdout.Result);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return (-1, ""); // not installed
        }
    }
}
