namespace Shoal.Tests.Interop;

/// <summary>The real BitTorrent clients an interop test talks to.</summary>
[Flags]
public enum InteropClients
{
    /// <summary>No outside client (only the shoal CLI).</summary>
    None = 0,

    /// <summary>libtorrent-rasterbar through /usr/bin/python3 (Debian package python3-libtorrent).</summary>
    Libtorrent = 1,

    /// <summary>transmission-cli, transmission-create and transmission-show (Debian package transmission-cli).</summary>
    Transmission = 2,
}
