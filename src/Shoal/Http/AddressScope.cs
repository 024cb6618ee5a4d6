namespace Shoal.Http;

/// <summary>How far from this machine an address is: what a URL a torrent names may reach (see <see cref="IAddressClassifier"/>).</summary>
public enum AddressScope
{
    /// <summary>An address on the internet.</summary>
    Global,

    /// <summary>An address of the local network: private (RFC 1918, IPv6 unique-local), link-local, shared (CGNAT).</summary>
    Local,

    /// <summary>This machine: 127.0.0.0/8, ::1, and the unspecified addresses (connecting to 0.0.0.0 reaches this machine).</summary>
    Loopback,
}
