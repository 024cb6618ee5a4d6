namespace Shoal.Daemon.Service;

/// <summary>
/// One torrent as the daemon's clients see it (the native API's list rows, and what the Transmission and
/// qBittorrent dialects and the web page map from). Plain values only; built by the service when something
/// changed, so reading the list of 10,000 torrents allocates nothing per torrent.
/// </summary>
/// <param name="Id">The daemon's number for the torrent.</param>
/// <param name="InfoHash">40 lowercase hex digits.</param>
/// <param name="Name">Display name.</param>
/// <param name="State">What it is doing.</param>
/// <param name="StateReason">Why, in words ("paused by the user", "queued: 3 of 3 downloads active", ...).</param>
/// <param name="Progress">Verified share of the wanted data, 0..1.</param>
/// <param name="TotalSize">Bytes of the whole torrent (0 while the metadata is unknown).</param>
/// <param name="WantedSize">Bytes of the files not skipped.</param>
/// <param name="DoneBytes">Verified bytes of the wanted data.</param>
/// <param name="DownRate">Payload bytes per second received.</param>
/// <param name="UpRate">Payload bytes per second sent.</param>
/// <param name="Downloaded">Payload bytes received over the torrent's life in the daemon.</param>
/// <param name="Uploaded">Payload bytes sent over the torrent's life in the daemon.</param>
/// <param name="Ratio">Uploaded over downloaded (over the verified size when little was downloaded).</param>
/// <param name="EtaSeconds">Seconds to completion at the current rate; null when unknown or done.</param>
/// <param name="Peers">Connected peers.</param>
/// <param name="Seeds">Connected peers that have everything.</param>
/// <param name="SavePath">Folder the content lives in.</param>
/// <param name="Category">Category, if any.</param>
/// <param name="Tags">Tags, sorted.</param>
/// <param name="QueuePosition">Place in the queue, from 0.</param>
/// <param name="AddedAt">When it was added.</param>
/// <param name="CompletedAt">When the download completed; null while incomplete.</param>
/// <param name="SeedingSeconds">Seconds spent seeding.</param>
/// <param name="ActiveSeconds">Seconds spent running.</param>
/// <param name="Error">The error that stopped it, if any.</param>
/// <param name="HasMetadata">False while a magnet link's metadata is being fetched.</param>
/// <param name="Paused">Paused by the user or a seeding goal.</param>
/// <param name="ForceStarted">Runs regardless of the queue.</param>
/// <param name="Sequential">Downloads in order.</param>
/// <param name="FirstLastPiecePriority">Downloads the first and last piece of every wanted file first.</param>
/// <param name="DownloadLimit">Its own download cap (bytes/s, 0 none).</param>
/// <param name="UploadLimit">Its own upload cap (bytes/s, 0 none).</param>
/// <param name="FileCount">Number of files (0 while the metadata is unknown).</param>
/// <param name="PieceCount">Number of pieces (0 while the metadata is unknown).</param>
/// <param name="PieceSize">Nominal piece size (0 while the metadata is unknown).</param>
/// <param name="LastActivity">When payload last moved either way.</param>
/// <param name="Moving">Its data is being moved to another folder.</param>
/// <param name="MissingFiles">Held in error because its data was gone when it was to run.</param>
public sealed record TorrentView(
    long Id,
    string InfoHash,
    string Name,
    TorrentActivity State,
    string StateReason,
    double Progress,
    long TotalSize,
    long WantedSize,
    long DoneBytes,
    long DownRate,
    long UpRate,
    long Downloaded,
    long Uploaded,
    double Ratio,
    long? EtaSeconds,
    int Peers,
    int Seeds,
    string SavePath,
    string? Category,
    IReadOnlyList<string> Tags,
    int QueuePosition,
    DateTimeOffset AddedAt,
    DateTimeOffset? CompletedAt,
    long SeedingSeconds,
    long ActiveSeconds,
    string? Error,
    bool HasMetadata,
    bool Paused,
    bool ForceStarted,
    bool Sequential,
    bool FirstLastPiecePriority,
    long DownloadLimit,
    long UploadLimit,
    int FileCount,
    int PieceCount,
    int PieceSize,
    DateTimeOffset? LastActivity,
    bool Moving,
    bool MissingFiles);
