namespace Shoal.Bench.Swarm;

/// <summary>The share of a swarm's leechers that are libtorrent processes; the seeder is always Shoal.</summary>
internal enum LibtorrentShare
{
    /// <summary>Every leecher is a Shoal session.</summary>
    None,

    /// <summary>N/2 leechers (rounded down) are libtorrent: --mixed.</summary>
    Half,

    /// <summary>Every leecher is libtorrent, the reference for the mixed swarm: --all-libtorrent.</summary>
    All,
}
