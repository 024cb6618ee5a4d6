using System.Globalization;

namespace Shoal.Bench;

/// <summary>
/// A network namespace whose loopback interface is a link of a given rate: an HTB class at that rate feeding a FIFO
/// on <c>lo</c>, with an Ethernet-sized MTU. Both ends of a pair run inside it (<c>ip netns exec</c>, which execs the
/// command, so the pid GNU time and /proc see is still the client's) and still talk over 127.0.0.1, but every byte
/// crosses the shaped queue. It answers what a 2-core loopback cannot: whether a client keeps up with a real link, or
/// runs out of CPU below the link's rate (the loopback pair is CPU-bound by construction: both ends share the same
/// two cores). Needs root (CI runs as root) and <c>ip</c>/<c>tc</c> from iproute2. Disposing deletes the namespace.
/// </summary>
internal sealed class LinkNamespace : IDisposable
{
    private LinkNamespace(string name, int megabitsPerSecond)
    {
        Name = name;
        MegabitsPerSecond = megabitsPerSecond;
    }

    /// <summary>The namespace's name (for <c>ip netns exec</c>).</summary>
    public string Name { get; }

    /// <summary>The link's rate, shared by both directions (the loopback interface carries both).</summary>
    public int MegabitsPerSecond { get; }

    /// <summary>Creates the namespace and shapes its loopback to <paramref name="megabitsPerSecond"/>.</summary>
    public static LinkNamespace Create(int megabitsPerSecond)
    {
        var link = new LinkNamespace($"shoal-bench-link-{Environment.ProcessId}", megabitsPerSecond);
        try
        {
            string ns = link.Name;
            string rate = megabitsPerSecond.ToString(CultureInfo.InvariantCulture) + "mbit";
            Run("ip", "netns", "add", ns);
            // 1500 bytes as on Ethernet: loopback's 64 KiB frames would make the shaper's bursts coarse.
            Run("ip", "-n", ns, "link", "set", "lo", "mtu", "1500");
            Run("ip", "-n", ns, "link", "set", "lo", "up");
            Run("tc", "-n", ns, "qdisc", "add", "dev", "lo", "root", "handle", "1:", "htb", "default", "10");
            Run("tc", "-n", ns, "class", "add", "dev", "lo", "parent", "1:", "classid", "1:10", "htb", "rate", rate, "ceil", rate);
            // A queue of about 10 ms at the link's rate, as a switch port holds: deep enough for TCP to fill the link.
            int packets = Math.Max(100, megabitsPerSecond * 1_000_000 / 8 / 1500 / 100);
            Run("tc", "-n", ns, "qdisc", "add", "dev", "lo", "parent", "1:10", "handle", "10:", "pfifo", "limit",
                packets.ToString(CultureInfo.InvariantCulture));
            return link;
        }
        catch
        {
            link.Dispose();
            throw;
        }
    }

    /// <summary>The command line that runs <paramref name="fileName"/> inside the namespace.</summary>
    public (string FileName, List<string> Arguments) Wrap(string fileName, IEnumerable<string> arguments) =>
        ("ip", ["netns", "exec", Name, fileName, .. arguments]);

    /// <inheritdoc />
    public void Dispose()
    {
        try
        {
            Run("ip", "netns", "delete", Name);
        }
        catch (BenchFailedException)
        {
            // Already gone (creation failed before it existed).
        }
    }

    private static void Run(string file, params string[] arguments)
    {
        (int code, string output) = Workspace.RunQuick(file, arguments, TimeSpan.FromSeconds(30), Path.GetTempPath());
        if (code != 0)
        {
            throw new BenchFailedException($"{file} {string.Join(' ', arguments)} failed ({code}): {output.Trim()} (--link-mbit needs root and iproute2)");
        }
    }
}
