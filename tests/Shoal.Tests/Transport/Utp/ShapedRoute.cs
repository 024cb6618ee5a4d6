using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Shoal.Tests.Transport.Utp;

/// <summary>
/// Three Linux network namespaces in a line, A — R — B, joined by veth pairs: R routes between the two, and its
/// interface towards B is the bottleneck (an HTB class of a given rate feeding a deep queue: netem with delay and
/// loss when the kernel has it, a plain FIFO otherwise), as a DSL modem's buffer sits between a host and the
/// internet. The queue is in R, not in A, so A's socket buffers do not throttle what A sends into it. Sockets are
/// created inside a namespace by a thread that enters it (setns), so one test process drives both ends. Disposing
/// deletes the namespaces (and their veth pairs), whatever happened before.
/// </summary>
internal sealed class ShapedRoute : IDisposable
{
    private const int CloneNewNet = 0x40000000;

    private readonly string _id;

    private ShapedRoute(string id)
    {
        _id = id;
        NameA = $"shoal-utp-{id}-a";
        NameRouter = $"shoal-utp-{id}-r";
        NameB = $"shoal-utp-{id}-b";
    }

    public string NameA { get; }

    public string NameRouter { get; }

    public string NameB { get; }

    public System.Net.IPAddress AddressA { get; } = System.Net.IPAddress.Parse("10.77.1.1");

    public System.Net.IPAddress AddressB { get; } = System.Net.IPAddress.Parse("10.77.2.2");

    /// <summary>Whether the A→B queue is netem (delay and loss) or a FIFO (the kernel has no netem).</summary>
    public bool UsesNetem { get; private set; }

    /// <summary>Why namespaces cannot be used here, or null when they can (checked once, by trying).</summary>
    public static string? Unsupported => s_probe.Value;

    private static readonly Lazy<string?> s_probe = new(Probe);

    /// <summary>Creates the route; A→B limited to <paramref name="megabitsPerSecond"/> with a queue of <paramref name="queuePackets"/>.</summary>
    public static ShapedRoute Create(int megabitsPerSecond, int queuePackets, TimeSpan netemDelay, double netemLossPercent)
    {
        var route = new ShapedRoute($"{Environment.ProcessId % 10000:x}{Random.Shared.Next(0x1000):x}");
        try
        {
            string a = route.NameA, r = route.NameRouter, b = route.NameB, id = route._id;
            foreach (string ns in (ReadOnlySpan<string>)[a, r, b]) Run("ip", "netns", "add", ns);
            Run("ip", "link", "add", "name", $"su{id}a", "netns", a, "type", "veth", "peer", "name", $"su{id}ra", "netns", r);
            Run("ip", "link", "add", "name", $"su{id}rb", "netns", r, "type", "veth", "peer", "name", $"su{id}b", "netns", b);
            Run("ip", "-n", a, "addr", "add", "10.77.1.1/24", "dev", $"su{id}a");
            Run("ip", "-n", r, "addr", "add", "10.77.1.2/24", "dev", $"su{id}ra");
            Run("ip", "-n", r, "addr", "add", "10.77.2.1/24", "dev", $"su{id}rb");
            Run("ip", "-n", b, "addr", "add", "10.77.2.2/24", "dev", $"su{id}b");
            foreach ((string ns, string dev) in (ReadOnlySpan<(string, string)>)[(a, $"su{id}a"), (r, $"su{id}ra"), (r, $"su{id}rb"), (b, $"su{id}b")])
                Run("ip", "-n", ns, "link", "set", dev, "up");
            foreach (string ns in (ReadOnlySpan<string>)[a, r, b]) Run("ip", "-n", ns, "link", "set", "lo", "up");
            Run("ip", "-n", a, "route", "add", "default", "via", "10.77.1.2");
            Run("ip", "-n", b, "route", "add", "default", "via", "10.77.2.1");
            Run("ip", "netns", "exec", r, "sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward");

            string bottleneck = $"su{id}rb";
            string limit = queuePackets.ToString(System.Globalization.CultureInfo.InvariantCulture);
            Run("tc", "-n", r, "qdisc", "add", "dev", bottleneck, "root", "handle", "1:", "htb", "default", "10");
            Run("tc", "-n", r, "class", "add", "dev", bottleneck, "parent", "1:", "classid", "1:10", "htb",
                "rate", $"{megabitsPerSecond}mbit", "ceil", $"{megabitsPerSecond}mbit");
            string delay = $"{(int)netemDelay.TotalMilliseconds}ms";
            string loss = netemLossPercent.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture) + "%";
            route.UsesNetem = TryRun("tc", "-n", r, "qdisc", "add", "dev", bottleneck, "parent", "1:10", "handle", "10:",
                "netem", "delay", delay, "loss", loss, "limit", limit);
            if (route.UsesNetem) Run("tc", "-n", r, "qdisc", "add", "dev", $"su{id}ra", "root", "netem", "delay", delay);
            else Run("tc", "-n", r, "qdisc", "add", "dev", bottleneck, "parent", "1:10", "handle", "10:", "pfifo", "limit", limit);
            return route;
        }
        catch
        {
            route.Dispose();
            throw;
        }
    }

    /// <summary>Runs <paramref name="action"/> on a thread inside namespace <paramref name="name"/> (sockets it creates stay there).</summary>
    public static T InNamespace<T>(string name, Func<T> action)
    {
        T result = default!;
        Exception? error = null;
        var thread = new Thread(() =>
        {
            try
            {
                using SafeFileHandle original = File.OpenHandle("/proc/thread-self/ns/net");
                using SafeFileHandle target = File.OpenHandle("/run/netns/" + name);
                if (SetNamespace((int)target.DangerousGetHandle(), CloneNewNet) != 0)
                    throw new IOException($"setns into {name} failed: errno {Marshal.GetLastPInvokeError()}");
                try
                {
                    result = action();
                }
                finally
                {
                    _ = SetNamespace((int)original.DangerousGetHandle(), CloneNewNet);
                }
            }
            catch (Exception ex)
            {
                error = ex;
            }
        });
        thread.Start();
        thread.Join();
        if (error is not null) throw new InvalidOperationException("running in a network namespace failed", error);
        return result;
    }

    public void Dispose()
    {
        foreach (string ns in (ReadOnlySpan<string>)[NameA, NameRouter, NameB]) TryRun("ip", "netns", "del", ns);
    }

    private static string? Probe()
    {
        if (!OperatingSystem.IsLinux()) return "network namespaces are Linux only";
        if (GetEffectiveUserId() != 0) return "creating network namespaces needs root";
        if (!TryRun("ip", "-V")) return "iproute2 (ip) is not installed";
        if (!TryRun("tc", "-V")) return "iproute2 (tc) is not installed";
        try
        {
            using var pair = Create(10, 100, TimeSpan.FromMilliseconds(1), 0);
            return null;
        }
        catch (Exception ex)
        {
            return "cannot create a shaped veth pair between two network namespaces: " + ex.Message;
        }
    }

    private static void Run(params string[] arguments)
    {
        var (code, errors) = Execute(arguments);
        if (code != 0) throw new InvalidOperationException($"'{string.Join(' ', arguments)}' failed ({code}): {errors}");
    }

    private static bool TryRun(params string[] arguments) => Execute(arguments).ExitCode == 0;

    private static (int ExitCode, string Errors) Execute(string[] arguments)
    {
        var start = new ProcessStartInfo(arguments[0]) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string argument in arguments.AsSpan(1)) start.ArgumentList.Add(argument);
        try
        {
            using Process process = Process.Start(start)!;
            string errors = process.StandardError.ReadToEnd();
            process.StandardOutput.ReadToEnd();
            if (!process.WaitForExit(TimeSpan.FromSeconds(30)))
            {
                process.Kill(entireProcessTree: true);
                return (-1, "timed out");
            }
            return (process.ExitCode, errors.Trim());
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return (-1, ex.Message);
        }
    }

#pragma warning disable SYSLIB1054 // LibraryImport needs unsafe code in the test project; two plain calls do not
    [DllImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static extern int SetNamespace(int fd, int namespaceType);

    [DllImport("libc", EntryPoint = "geteuid")]
    private static extern uint GetEffectiveUserId();
#pragma warning restore SYSLIB1054
}

/// <summary>
/// A fact that needs network namespaces (root, iproute2, a kernel with veth, forwarding and HTB). Skipped with the reason on a
/// developer machine that lacks them; never skipped when CI=true, where it must run (and fails if it cannot).
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class NetworkNamespaceFactAttribute : FactAttribute
{
    /// <summary>Marks a test that needs network namespaces.</summary>
    public NetworkNamespaceFactAttribute()
    {
        if (Shoal.Tests.Interop.InteropEnvironment.Current.IsCi) return;
        if (ShapedRoute.Unsupported is { } reason) Skip = reason + "; it runs in CI (CI=true), where this fails";
    }
}
