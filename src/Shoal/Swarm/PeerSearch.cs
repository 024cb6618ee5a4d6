namespace Shoal.Swarm;

/// <summary>
/// Why a torrent has no peer, for telling the user: the addresses it knows and where they came from, how many it
/// tried, and how the last attempt failed. Filled in only while no peer is connected (it costs a walk over the known
/// addresses).
/// </summary>
/// <param name="Known">Addresses known (dialled, being dialled or waiting for a retry).</param>
/// <param name="KnownFrom">Where the known addresses came from.</param>
/// <param name="Tried">Addresses dialled at least once without a lasting connection.</param>
/// <param name="LastFailure">The last failed dial, e.g. "127.0.0.1:6881: connection refused"; null when none failed.</param>
public sealed record PeerSearch(int Known, PeerSourceCounts KnownFrom, int Tried, string? LastFailure);
