namespace Shoal.Daemon.Service;

/// <summary>What became of one torrent of an add: its row (<paramref name="Added"/>) or why it was refused (<paramref name="Error"/>).</summary>
/// <param name="Added">The added torrent's row; null when refused.</param>
/// <param name="Error">Why it was refused; null when added.</param>
public sealed record AddOutcome(TorrentView? Added, ServiceException? Error);
