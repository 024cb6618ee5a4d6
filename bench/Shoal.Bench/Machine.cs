using System.Globalization;

namespace Shoal.Bench;

/// <summary>What a report says about the machine it ran on, read from /proc and /etc; "unknown" where unreadable.</summary>
internal static class Machine
{
    public static string CpuModel() =>
        Read(() => File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim(), "unknown CPU");

    public static string MemoryTotal() => Read(() =>
    {
        var line = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
        var kib = long.Parse(line.AsSpan(9).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture);
        return string.Create(CultureInfo.InvariantCulture, $"{kib / 1048576.0:0} GiB RAM");
    }, "unknown RAM");

    public static string Kernel() => Read(() => "Linux " + File.ReadAllText("/proc/sys/kernel/osrelease").Trim(), Environment.OSVersion.ToString());

    /// <summary>PRETTY_NAME from /etc/os-release, e.g. "Debian GNU/Linux 12 (bookworm)".</summary>
    public static string OperatingSystem() => Read(() => File.ReadLines("/etc/os-release")
        .FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))?["PRETTY_NAME=".Length..].Trim('"'), "unknown OS");

    /// <summary>The three load averages from /proc/loadavg, e.g. "0.96 1.03 1.81".</summary>
    public static string LoadAverage() => Read(() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)), "unknown");

    /// <summary>transmission-cli's own version line, e.g. "3.00 (bb6b5a062e)", or why there is none.</summary>
    public static string TransmissionVersion()
    {
        const string cli = TransmissionPair.TransmissionCli;
        if (!File.Exists(cli)) return "not installed";
        var (code, output) = Workspace.RunQuick(cli, ["--version"], TimeSpan.FromSeconds(10), Environment.CurrentDirectory);
        var line = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "";
        return code == 0 && line.StartsWith("transmission-cli ", StringComparison.Ordinal) ? line["transmission-cli ".Length..] : "unknown (" + line + ")";
    }

    private static string Read(Func<string?> read, string fallback)
    {
        try
        {
            return read() ?? fallback;
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or FormatException or InvalidOperationException)
        {
            return fallback;
        }
    }
}
