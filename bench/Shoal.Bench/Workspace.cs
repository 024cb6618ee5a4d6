using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Shoal.Bench;

/// <summary>Where things are: the checkout, the libtorrent scripts, python, the shoal CLI build.</summary>
internal sealed class Workspace
{
    private Workspace(string root, string python, string libtorrentVersion)
    {
        Root = root;
        Python = python;
        LibtorrentVersion = libtorrentVersion;
    }

    public string Root { get; }

    public string Python { get; }

    public string LibtorrentVersion { get; }

    public string Scripts => Path.Combine(Root, "tests", "Shoal.Tests", "Interop", "scripts");

    public static bool HasGnuTime => File.Exists("/usr/bin/time");

    /// <summary>
    /// How to start the CLI whose <c>shoal.dll</c> is <paramref name="shoalDll"/>: a self-contained publish through its
    /// own launcher (with the runtime it was compiled with; <c>dotnet shoal.dll</c> would load the shared runtime
    /// instead), anything else through <c>dotnet</c>.
    /// </summary>
    public static (string File, string[] Arguments) ShoalCommand(string shoalDll, params string[] arguments)
    {
        string launcher = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(shoalDll))!, OperatingSystem.IsWindows() ? "shoal.exe" : "shoal");
        return IsSelfContained(shoalDll) && File.Exists(launcher) ? (launcher, arguments) : (DotnetHost, [shoalDll, .. arguments]);
    }

    /// <summary>Whether the CLI at <paramref name="shoalDll"/> was published with its own runtime.</summary>
    public static bool IsSelfContained(string shoalDll) =>
        File.Exists(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(shoalDll))!, OperatingSystem.IsWindows() ? "coreclr.dll" : "libcoreclr.so"));

    private static string DotnetHost =>
        Environment.ProcessPath is { } host && Path.GetFileNameWithoutExtension(host) == "dotnet" ? host : "dotnet";

    /// <summary>The checkout this benchmark runs from: the folder holding Shoal.slnx, above the current folder or the binary.</summary>
    public static string FindRoot()
    {
        foreach (var start in (string[])[Environment.CurrentDirectory, AppContext.BaseDirectory])
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Shoal.slnx"))) return dir.FullName;
            }
        }
        throw new BenchFailedException("run from a Shoal checkout (no Shoal.slnx found above the current folder)");
    }

    /// <summary>The checkout and a python that imports libtorrent (python3-libtorrent).</summary>
    public static Workspace Find()
    {
        var root = FindRoot();
        var python = Environment.GetEnvironmentVariable("SHOAL_INTEROP_PYTHON") is { Length: > 0 } p ? p : "/usr/bin/python3";
        var (code, output) = RunQuick(python, ["-c", "import libtorrent; print(libtorrent.__version__)"], TimeSpan.FromSeconds(30), root);
        if (code != 0) throw new BenchFailedException($"{python} cannot import libtorrent: apt-get install python3-libtorrent");
        return new Workspace(root, python, output.Trim());
    }

    /// <summary>The shoal CLI to run: the given path, or the Release build (built first when missing or when asked).</summary>
    public string ResolveShoal(string? explicitPath, bool build) => ResolveShoal(Root, explicitPath, build);

    /// <summary>The shoal CLI of the checkout at <paramref name="root"/>; needs no libtorrent.</summary>
    public static string ResolveShoal(string root, string? explicitPath, bool build)
    {
        if (explicitPath is not null)
        {
            return File.Exists(explicitPath) ? Path.GetFullPath(explicitPath) : throw new BenchFailedException($"no shoal CLI at {explicitPath}");
        }
        var dll = DefaultShoalDllIn(root);
        if (build || !File.Exists(dll) || SourcesNewerThan(root, File.GetLastWriteTimeUtc(dll)))
        {
            // Published as the README installs it: self-contained, the runtime and Shoal precompiled together
            // (composite ReadyToRun). A short-lived process otherwise spends a good part of its CPU in the JIT,
            // which measures the runtime's start-up rather than the engine.
            Console.Error.WriteLine("publishing src/Shoal.Cli (Release, self-contained, composite ReadyToRun; about 2 minutes)...");
            // No compiler server left running afterwards: it would share the cores with the benchmark.
            var (code, output) = RunQuick("dotnet", ["publish", "-c", "Release", "-r", RuntimeInformation.RuntimeIdentifier, "--self-contained", "true",
                "-o", Path.GetDirectoryName(dll)!, "--nologo", "-v", "q", "--disable-build-servers", Path.Combine(root, "src", "Shoal.Cli")],
                TimeSpan.FromMinutes(10), root);
            if (code != 0 || !File.Exists(dll))
            {
                throw new BenchFailedException("dotnet publish -c Release src/Shoal.Cli failed:\n" + output);
            }
            File.SetLastWriteTimeUtc(dll, DateTime.UtcNow); // publish keeps an unchanged file's old time
        }
        return dll;
    }

    /// <summary>Where benchmarks run the CLI from: a self-contained publish kept beside the bench's own build output.</summary>
    private static string DefaultShoalDllIn(string root) => Path.Combine(root, "bench", "Shoal.Bench", "bin", "shoal-cli", "shoal.dll");

    private static bool SourcesNewerThan(string root, DateTime builtUtc)
    {
        foreach (string project in new[] { Path.Combine(root, "src", "Shoal"), Path.Combine(root, "src", "Shoal.Cli") })
        {
            foreach (string file in Directory.EnumerateFiles(project, "*", SearchOption.AllDirectories))
            {
                if (file.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}") || file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}")) continue;
                if (File.GetLastWriteTimeUtc(file) > builtUtc) return true;
            }
        }
        return false;
    }

    /// <summary>Writes every dirty page back (sync(1)), so a benchmark run does not pay for the previous one's writes.</summary>
    public static void SyncFileSystems()
    {
        var (code, output) = RunQuick("sync", [], TimeSpan.FromMinutes(5), Path.GetTempPath());
        if (code != 0) throw new BenchFailedException("sync failed: " + output);
    }

    public static (int ExitCode, string Output) RunQuick(string fileName, string[] arguments, TimeSpan timeout, string workingDirectory)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        info.Environment["PYTHONDONTWRITEBYTECODE"] = "1";
        foreach (var a in arguments) info.ArgumentList.Add(a);
        try
        {
            using var process = Process.Start(info)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeout))
            {
                process.Kill(entireProcessTree: true);
                return (-1, $"{fileName} timed out");
            }
            return (process.ExitCode, stdout.Result + stderr.Result);
        }
        catch (System.ComponentModel.Win32Exception error)
        {
            return (-1, $"{fileName}: {error.Message}");
        }
    }
}
