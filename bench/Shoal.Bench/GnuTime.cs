using System.Diagnostics;
using System.Globalization;

namespace Shoal.Bench;

/// <summary>
/// Children run under GNU time (<c>/usr/bin/time</c>), which reports wall, CPU and peak RSS as measured by the
/// kernel at exit. Shared by every benchmarked child process.
/// </summary>
internal static class GnuTime
{
    /// <summary>
    /// Start info with redirected standard streams for <paramref name="fileName"/>, wrapped in GNU time writing
    /// to <paramref name="timeFile"/> when one is given.
    /// </summary>
    public static ProcessStartInfo StartInfo(string fileName, IEnumerable<string> arguments, string? timeFile)
    {
        var info = new ProcessStartInfo
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (timeFile is not null)
        {
            // %e wall, %U user, %S system seconds, %M peak RSS in KiB.
            info.FileName = "/usr/bin/time";
            foreach (string a in (string[])["-o", timeFile, "-f", "%e %U %S %M", fileName]) info.ArgumentList.Add(a);
        }
        else
        {
            info.FileName = fileName;
        }
        foreach (string a in arguments) info.ArgumentList.Add(a);
        return info;
    }

    /// <summary>The pid doing the work: the child of GNU time when wrapped, else the process itself.</summary>
    public static int WorkerPid(Process process, string? timeFile)
    {
        if (timeFile is null) return process.Id;
        try
        {
            string[] children = File.ReadAllText($"/proc/{process.Id}/task/{process.Id}/children").Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return children.Length > 0 ? int.Parse(children[0], CultureInfo.InvariantCulture) : process.Id;
        }
        catch (IOException)
        {
            return process.Id;
        }
    }

    /// <summary>What GNU time wrote: (wall s, CPU s, of which system s, peak RSS bytes), or null when not wrapped or unreadable.</summary>
    public static (double Wall, double Cpu, double System, long PeakRss)? Read(string? timeFile)
    {
        if (timeFile is null || !File.Exists(timeFile)) return null;
        string[]? parts = File.ReadLines(timeFile).LastOrDefault(l => l.Length > 0)?.Split(' ');
        if (parts is not { Length: 4 }) return null;
        static double P(string s) => double.Parse(s, CultureInfo.InvariantCulture);
        return (P(parts[0]), P(parts[1]) + P(parts[2]), P(parts[2]), (long)P(parts[3]) * 1024);
    }
}
