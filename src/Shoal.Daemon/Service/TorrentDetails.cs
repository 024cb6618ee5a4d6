namespace Shoal.Daemon.Service;

/// <summary>One torrent in full: its list row plus what only a details view needs.</summary>
/// <param name="Torrent">The list row.</param>
/// <param name="Comment">The torrent's comment.</param>
/// <param name="CreatedBy">The program that made the torrent.</param>
/// <param name="CreatedAt">When the torrent was made.</param>
/// <param name="IsPrivate">The private flag (BEP 27): no DHT, PEX or local discovery.</param>
/// <param name="Magnet">A magnet link for it.</param>
/// <param name="VerifiedPieces">Pieces verified.</param>
/// <param name="FailedPieces">Pieces that failed their hash check in this run.</param>
/// <param name="Settings">Its limits, mode, seeding goals and extra trackers.</param>
public sealed record TorrentDetails(
    TorrentView Torrent,
    string? Comment,
    string? CreatedBy,
    DateTimeOffset? CreatedAt,
    bool IsPrivate,
    string Magnet,
    int VerifiedPieces,
    int FailedPieces,
    State.TorrentSettings Settings);
