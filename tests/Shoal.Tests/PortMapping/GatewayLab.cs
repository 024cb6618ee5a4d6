using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Shoal.Tests.Interop;

namespace Shoal.Tests.PortMapping;

/// <summary>
/// A home network in two network namespaces the test creates: "gw" runs Debian's miniupnpd (UPnP IGD, NAT-PMP and
/// PCP) between a LAN interface (10.231.7.1/24) and a WAN interface holding a public-looking address that never leaves
/// the namespace; "lan" holds the client's interface (10.231.7.2/24, default route via the gateway). The test process
/// itself stays where it is: <see cref="CreateSocket"/> makes sockets inside "lan" from a thread that joined it
/// (setns), which is all the port mapper needs. Disposal kills miniupnpd and deletes both namespaces (with every
/// interface in them), and a new lab first deletes what a killed test run left behind.
/// </summary>
internal sealed class GatewayLab : IAsyncDisposable
{
    /// <summary>The gateway's address on the LAN.</summary>
    public static readonly IPAddress GatewayAddress = IPAddress.Parse("10.231.7.1");

    /// <summary>The client's address on the LAN.</summary>
    public static readonly IPAddress ClientAddress = IPAddress.Parse("10.231.7.2");

    /// <summary>The gateway's WAN address. miniupnpd refuses private ones; this one is only ever seen inside "gw".</summary>
    public static readonly IPAddress ExternalAddress = IPAddress.Parse("198.51.101.7");

    private const string Prefix = "shoal-pm-";
    private static int s_counter;

    private readonly string _gw;
    private readonly string _lan;
    private readonly TempFolder _folder = new();
    private readonly BlockingCollection<Action> _lanWork = [];
    private readonly Thread _lanThread;
    private ChildProcess? _miniupnpd;

    private GatewayLab(string id)
    {
        _gw = Prefix + id + "-gw";
        _lan = Prefix + id + "-lan";
        _lanThread = new Thread(RunInLan) { IsBackground = true, Name = "lan namespace" };
    }

    /// <summary>miniupnpd's lease file: one line per mapping, PROTO:EXTPORT:CLIENT:INTPORT:EXPIRY:DESCRIPTION.</summary>
    public string LeaseFile => _folder.Combine("leases");

    /// <summary>Everything miniupnpd logged so far.</summary>
    public string GatewayLog => _miniupnpd?.Transcript(200) ?? "";

    /// <summary>Why the lab cannot run here, or null when it can (root, ip, miniupnpd and python3 present).</summary>
    public static string? Problem()
    {
        if (!OperatingSystem.IsLinux()) return "network namespaces need Linux";
        if (geteuid() != 0) return "creating network namespaces needs root";
        foreach (string tool in new[] { "/usr/sbin/ip", "/usr/sbin/miniupnpd", "/usr/bin/python3" })
        {
            if (!File.Exists(tool) && !File.Exists(tool.Replace("/usr/sbin/", "/sbin/", StringComparison.Ordinal))) return $"{tool} is missing (apt-get install iproute2 miniupnpd python3)";
        }
        return null;
    }

    /// <summary>Builds the namespaces, the links and the firewall tables, and starts miniupnpd.</summary>
    public static async Task<GatewayLab> StartAsync(Action<string>? log = null)
    {
        if (Problem() is { } problem) throw new InvalidOperationException(problem);
        await RemoveLeftoversAsync().ConfigureAwait(false);
        var lab = new GatewayLab($"{Environment.ProcessId}-{Interlocked.Increment(ref s_counter)}");
        try
        {
            await lab.BuildAsync().ConfigureAwait(false);
            await lab.StartMiniupnpdAsync(log).ConfigureAwait(false);
            return lab;
        }
        catch
        {
            await lab.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task BuildAsync()
    {
        await IpAsync("netns", "add", _gw);
        await IpAsync("netns", "add", _lan);
        // Both veth pairs are created inside the namespaces: nothing ever appears in the host's own network.
        await IpAsync("link", "add", "lan0", "netns", _gw, "type", "veth", "peer", "name", "eth0", "netns", _lan);
        await IpAsync("link", "add", "wan0", "netns", _gw, "type", "veth", "peer", "name", "wan1", "netns", _gw);
        await InAsync(_gw, "ip", "addr", "add", "10.231.7.1/24", "dev", "lan0");
        await InAsync(_gw, "ip", "addr", "add", ExternalAddress + "/24", "dev", "wan0");
        foreach (string link in new[] { "lo", "lan0", "wan0", "wan1" }) await InAsync(_gw, "ip", "link", "set", link, "up");
        await InAsync(_gw, "ip", "route", "add", "default", "via", "198.51.101.1");
        await InAsync(_lan, "ip", "addr", "add", "10.231.7.2/24", "dev", "eth0");
        foreach (string link in new[] { "lo", "eth0" }) await InAsync(_lan, "ip", "link", "set", link, "up");
        await InAsync(_lan, "ip", "route", "add", "default", "via", "10.231.7.1");

        // miniupnpd's nftables back end adds its rules to chains it expects to exist (Debian's nft_init.sh creates
        // them with the nft tool, which is not installed here): a few netlink messages do the same.
        string helper = Path.Combine(InteropEnvironment.Current.RepositoryRoot!, "tests", "Shoal.Tests", "PortMapping", "nft_miniupnpd_chains.py");
        await InAsync(_gw, "/usr/bin/python3", helper);

        _lanThread.Start();
    }

    private async Task StartMiniupnpdAsync(Action<string>? log)
    {
        string config = _folder.Combine("miniupnpd.conf");
        await File.WriteAllTextAsync(config, $"""
            ext_ifname=wan0
            listening_ip=lan0
            port=0
            enable_upnp=yes
            enable_natpmp=yes
            secure_mode=yes
            system_uptime=yes
            lease_file={LeaseFile}
            uuid={Guid.NewGuid()}
            allow 1024-65535 10.231.7.0/24 1024-65535
            deny 0-65535 0.0.0.0/0 0-65535

            """).ConfigureAwait(false);
        _miniupnpd = ChildProcess.Start("/usr/sbin/ip", ["netns", "exec", _gw, "/usr/sbin/miniupnpd", "-f", config, "-d", "-P", _folder.Combine("miniupnpd.pid")]);
        // miniupnpd -d logs to stderr; it is ready once both its HTTP and its NAT-PMP/PCP sockets listen.
        DateTime deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!_miniupnpd.StandardErrorLines.Any(l => l.Contains("Listening for NAT-PMP/PCP traffic", StringComparison.Ordinal)))
        {
            if (_miniupnpd.HasExited || DateTime.UtcNow > deadline) throw new InvalidOperationException("miniupnpd did not start\n" + _miniupnpd.Transcript());
            await Task.Delay(50).ConfigureAwait(false);
        }
        log?.Invoke("miniupnpd started in " + _gw);
    }

    /// <summary>Creates a socket inside the "lan" namespace (the mapper's <c>SocketFactory</c>).</summary>
    public Socket CreateSocket(AddressFamily family, SocketType type, ProtocolType protocol)
    {
        var created = new TaskCompletionSource<Socket>(TaskCreationOptions.RunContinuationsAsynchronously);
        _lanWork.Add(() =>
        {
            try { created.SetResult(new Socket(family, type, protocol)); }
            catch (Exception ex) { created.SetException(ex); }
        });
        return created.Task.WaitAsync(TimeSpan.FromSeconds(10)).GetAwaiter().GetResult();
    }

    /// <summary>The mappings miniupnpd holds now, from its lease file (empty when it has none).</summary>
    public async Task<IReadOnlyList<LeaseLine>> ReadLeasesAsync()
    {
        if (!File.Exists(LeaseFile)) return [];
        string[] lines = await File.ReadAllLinesAsync(LeaseFile).ConfigureAwait(false);
        return [.. lines.Where(l => l.Length > 0).Select(LeaseLine.Parse)];
    }

    private void RunInLan()
    {
        // setns moves only this thread into the namespace; every socket it creates lives there for good.
        using (SafeHandleFd netns = SafeHandleFd.Open("/run/netns/" + _lan))
        {
            if (setns(netns.Fd, CloneNewNet) != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                foreach (Action work in _lanWork.GetConsumingEnumerable()) work(); // let callers fail, not hang
                throw new InvalidOperationException($"setns into {_lan} failed (errno {errno})");
            }
        }
        foreach (Action work in _lanWork.GetConsumingEnumerable()) work();
    }

    public async ValueTask DisposeAsync()
    {
        _lanWork.CompleteAdding();
        if (_miniupnpd is not null)
        {
            _miniupnpd.Dispose(); // kills the process it started, by its id
        }
        foreach (string ns in new[] { _lan, _gw })
        {
            try
            {
                await IpAsync("netns", "del", ns).ConfigureAwait(false);
            }
            catch (InvalidOperationException)
            {
                // not created (a failed build) or already gone
            }
        }
        _folder.Dispose();
    }

    /// <summary>Deletes the namespaces of earlier test processes that no longer run (a run killed mid-test).</summary>
    private static async Task RemoveLeftoversAsync()
    {
        ProcessResult list = await ChildProcess.RunAsync("/usr/sbin/ip", ["netns", "list"], TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        foreach (string line in list.StandardOutput)
        {
            string name = line.Split(' ', 2)[0];
            if (!name.StartsWith(Prefix, StringComparison.Ordinal)) continue;
            string pid = name[Prefix.Length..].Split('-')[0];
            if (int.TryParse(pid, out int id) && !Directory.Exists("/proc/" + id))
                await ChildProcess.RunAsync("/usr/sbin/ip", ["netns", "del", name], TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
    }

    private static Task IpAsync(params string[] arguments) => RunAsync("/usr/sbin/ip", arguments);

    private static Task InAsync(string ns, params string[] command) => RunAsync("/usr/sbin/ip", ["netns", "exec", ns, .. command]);

    private static async Task RunAsync(string file, string[] arguments)
    {
        ProcessResult result = await ChildProcess.RunAsync(file, arguments, TimeSpan.FromSeconds(20)).ConfigureAwait(false);
        if (result.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} failed\n{result.Transcript}");
    }

    private const int CloneNewNet = 0x40000000;

    [DllImport("libc", SetLastError = true)]
    private static extern int setns(int fd, int nstype);

    [DllImport("libc")]
    private static extern uint geteuid();

    /// <summary>A file descriptor opened for setns.</summary>
    private sealed class SafeHandleFd : IDisposable
    {
        private readonly Microsoft.Win32.SafeHandles.SafeFileHandle _handle;

        private SafeHandleFd(Microsoft.Win32.SafeHandles.SafeFileHandle handle) => _handle = handle;

        public int Fd => (int)_handle.DangerousGetHandle();

        public static SafeHandleFd Open(string path) => new(File.OpenHandle(path, FileMode.Open, FileAccess.Read));

        public void Dispose() => _handle.Dispose();
    }
}

/// <summary>One line of miniupnpd's lease file.</summary>
/// <param name="Protocol">"TCP" or "UDP".</param>
/// <param name="ExternalPort">The gateway's port.</param>
/// <param name="Client">The internal client it forwards to.</param>
/// <param name="InternalPort">The client's port.</param>
/// <param name="Expiry">Unix time the lease ends (0: permanent).</param>
/// <param name="Description">The description the client gave.</param>
internal sealed record LeaseLine(string Protocol, int ExternalPort, string Client, int InternalPort, long Expiry, string Description)
{
    public static LeaseLine Parse(string line)
    {
        string[] parts = line.Split(':', 6);
        return new LeaseLine(parts[0], int.Parse(parts[1]), parts[2], int.Parse(parts[3]), long.Parse(parts[4]), parts.Length > 5 ? parts[5] : "");
    }
}
