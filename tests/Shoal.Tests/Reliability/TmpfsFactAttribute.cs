using System.Diagnostics;

namespace Shoal.Tests.Reliability;

/// <summary>
/// A test that needs to mount a small tmpfs (to make a real "disk full" or read-only folder). Runs as root on
/// Linux (as CI does); elsewhere it is skipped with the reason, checked once per test run.
/// </summary>
public sealed class TmpfsFactAttribute : FactAttribute
{
    private static readonly Lazy<string?> Unavailable = new(Probe);

    public TmpfsFactAttribute()
    {
        if (Unavailable.Value is { } reason) Skip = reason;
    }

    private static string? Probe()
    {
        if (!OperatingSystem.IsLinux()) return "needs Linux tmpfs";
        string dir = Directory.CreateTempSubdirectory("shoal-tmpfs-probe-").FullName;
        try
        {
            if (Tmpfs.Run("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", dir) is { } error) return "cannot mount a tmpfs (needs root): " + error;
            Tmpfs.Run("umount", dir);
            return null;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

/// <summary>Mounts, resizes and unmounts a tmpfs with the system's tools.</summary>
internal static class Tmpfs
{
    /// <summary>Runs a command; null on success, else what it printed.</summary>
    public static string? Run(string command, params string[] arguments)
    {
        var info = new ProcessStartInfo(command) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string argument in arguments) info.ArgumentList.Add(argument);
        try
        {
            using Process process = Process.Start(info)!;
            string error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            return process.ExitCode == 0 ? null : $"{command} exited {process.ExitCode}: {error.Trim()}";
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return $"{command}: {ex.Message}";
        }
    }
}
