namespace Shoal.Trackers.Server;

/// <summary>Which address families an answer may carry.</summary>
[Flags]
public enum PeerFamilies
{
    /// <summary>None.</summary>
    None = 0,

    /// <summary>IPv4 peers.</summary>
    V4 = 1,

    /// <summary>IPv6 peers.</summary>
    V6 = 2,

    /// <summary>Both.</summary>
    Both = V4 | V6,
}
