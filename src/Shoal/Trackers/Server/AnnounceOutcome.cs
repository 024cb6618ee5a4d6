namespace Shoal.Trackers.Server;

/// <summary>The registry's answer to an announce.</summary>
/// <param name="PeerCount">Peers written to the caller's buffer.</param>
/// <param name="Seeders">Seeders in the swarm.</param>
/// <param name="Leechers">Leechers in the swarm.</param>
/// <param name="Interval">The interval to tell the peer.</param>
/// <param name="MinInterval">The min interval to tell the peer.</param>
/// <param name="FailureReason">Set when the announce was refused; the rest is then zero.</param>
public readonly record struct AnnounceOutcome(int PeerCount, int Seeders, int Leechers, TimeSpan Interval, TimeSpan MinInterval, string? FailureReason);
