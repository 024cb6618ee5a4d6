using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Shoal.Discovery;

namespace Shoal.Tests.Discovery;

/// <summary>
/// A fact that needs IPv4 multicast delivered over the loopback interface (127.0.0.1, TTL 0: nothing leaves
/// the host). Probed once: a datagram to a multicast group must come back. When it does not and the test
/// runs as root on Linux, "ip link set lo multicast on" is tried before giving up; the test is then skipped
/// with the reason.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class MulticastLoopbackFactAttribute : FactAttribute
{
    /// <summary>Marks a test that needs multicast over loopback.</summary>
    public MulticastLoopbackFactAttribute() => Skip = MulticastLoopback.SkipReason;
}

/// <summary>The once-per-process multicast probe.</summary>
internal static class MulticastLoopback
{
    public static readonly IPAddress Group = new([239, 192, 152, 143]);

    private static readonly Lazy<string?> Probe = new(Run);

    /// <summary>Null when multicast over loopback works, else why not.</summary>
    public static string? SkipReason => Probe.Value;

    /// <summary>
    /// LSD on <see cref="Group"/> at <paramref name="port"/> over the loopback interface with TTL 0, IPv4 only: nothing
    /// leaves the machine, and runs on other ports do not hear each other.
    /// </summary>
    public static LsdOptions Lsd(int port, TimeProvider? time = null) => new()
    {
        Ipv4Group = new IPEndPoint(Group, port),
        Ipv6Group = null,
        Ipv4Interface = IPAddress.Loopback,
        EnableLoopback = true,
        TimeToLive = 0,
        TimeProvider = time ?? TimeProvider.System,
    };

    /// <summary>A UDP port free right now (the LSD tests use their own port, never 6771).</summary>
    public static int FreeUdpPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Any, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    private static string? Run()
    {
        string? problem = TryOnce();
        if (problem is null) return null;
        if (!OperatingSystem.IsLinux() || !Environment.IsPrivilegedProcess)
            return $"IPv4 multicast over loopback does not work here ({problem}) and enabling it needs root on Linux";
        string? ip = new[] { "/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip" }.FirstOrDefault(File.Exists);
        if (ip is null) return $"IPv4 multicast over loopback does not work here ({problem}) and the 'ip' tool is missing";
        using (var process = Process.Start(new ProcessStartInfo(ip, "link set lo multicast on") { RedirectStandardError = true, RedirectStandardOutput = true }))
        {
            process?.WaitForExit(10_000);
        }
        string? again = TryOnce();
        return again is null ? null : $"IPv4 multicast over loopback does not work here ({again}), even after 'ip link set lo multicast on'";
    }

    private static string? TryOnce()
    {
        try
        {
            int port = FreeUdpPort();
            using var receiver = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            receiver.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            receiver.Bind(new IPEndPoint(IPAddress.Any, port));
            receiver.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.AddMembership, new MulticastOption(Group, IPAddress.Loopback));
            using var sender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            sender.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastInterface, IPAddress.Loopback.GetAddressBytes());
            sender.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastLoopback, true);
            sender.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastTimeToLive, 0);
            sender.SendTo("probe"u8, new IPEndPoint(Group, port));
            if (!receiver.Poll(TimeSpan.FromSeconds(3), SelectMode.SelectRead)) return "the probe datagram did not come back";
            byte[] buffer = new byte[16];
            int n = receiver.Receive(buffer);
            return buffer.AsSpan(0, n).SequenceEqual("probe"u8) ? null : "a different datagram came back";
        }
        catch (SocketException e)
        {
            return $"{e.SocketErrorCode}: {e.Message}";
        }
    }
}
