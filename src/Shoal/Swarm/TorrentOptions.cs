using System.Net;
using Shoal.Picking;
using Shoal.Storage;

namespace Shoal.Swarm;

/// <summary>Settings of one torrent added to a session.</summary>
public sealed record TorrentOptions
{
    /// <summary>
    /// Folder the torrent's content lives in: a single-file torrent is the file DIR/NAME, a multi-file torrent
    /// the folder DIR/NAME.
    /// </summary>
    public required string DownloadDirectory { get; init; }

    /// <summary>Peers to dial straight away.</summary>
    public IReadOnlyList<IPEndPoint> Peers { get; init; } = [];

    /// <summary>
    /// Indices (in <see cref="Metainfo.Torrent.Files"/>) of the files to download, as BEP 53's 'so='; null or empty
    /// means all. Files not selected are never written; out-of-range indices are ignored.
    /// </summary>
    public IReadOnlyList<int>? SelectedFiles { get; init; }

    /// <summary>
    /// Priority of each file (in <see cref="Metainfo.Torrent.Files"/> order; files past the list's end are
    /// <see cref="FilePriority.Normal"/>); <see cref="FilePriority.Skip"/> files are never requested nor written.
    /// Applied with <see cref="SelectedFiles"/> (a file either skips is skipped). Change them later with
    /// <see cref="TorrentHandle.SetFilePrioritiesAsync"/>.
    /// </summary>
    public IReadOnlyList<FilePriority>? FilePriorities { get; init; }

    /// <summary>
    /// Files kept under another path than the torrent's (libtorrent's renamed files): file index → path under
    /// <see cref="DownloadDirectory"/>, '/'-separated, the torrent's folder included ("Name/sub/file.bin"). Null takes
    /// them from the torrent's resume data, which keeps the renames <see cref="TorrentHandle.RenameFileAsync"/> made.
    /// </summary>
    public IReadOnlyDictionary<int, string>? RenamedFiles { get; init; }

    /// <summary>Download pieces in order (after deadline and high-priority pieces): a file can be played while it downloads.</summary>
    public bool Sequential { get; init; }

    /// <summary>
    /// The first and last piece of every wanted file come before the rest (after pieces with a deadline): a player
    /// reads a file's header and its index, often at the end, before anything else. Change it later with
    /// <see cref="TorrentHandle.SetFirstAndLastPiecesFirstAsync"/>.
    /// </summary>
    public bool FirstAndLastPiecesFirst { get; init; }

    /// <summary>
    /// Added paused: no peers, no announces, no data check until <see cref="TorrentHandle.ResumeAsync"/> (a paused
    /// torrent costs no timer, no socket and no file descriptor).
    /// </summary>
    public bool StartPaused { get; init; }

    /// <summary>
    /// With <see cref="StartPaused"/>: the data is checked at once all the same, as a stopped torrent's "verify" in
    /// Transmission or qBittorrent. While it checks, no peer is dialled or accepted and nothing is announced; when the
    /// check ends the torrent stays paused with what it found (the resume data saved, the files closed), until
    /// <see cref="TorrentHandle.ResumeAsync"/>. A magnet link's torrent has nothing to check until its metadata is
    /// known, so it just stays paused.
    /// </summary>
    public bool CheckWhilePaused { get; init; }

    /// <summary>Tracker URLs to announce to besides the torrent's own, each in a tier of its own (BEP 12).</summary>
    public IReadOnlyList<string> Trackers { get; init; } = [];

    /// <summary>Web seed URLs (BEP 19, as in 'url-list') to download from besides the torrent's own.</summary>
    public IReadOnlyList<string> WebSeeds { get; init; } = [];

    /// <summary>Per-torrent upload cap in bytes per second; 0 is unlimited (the session cap still applies).</summary>
    public long MaxUploadRate { get; init; }

    /// <summary>Per-torrent download cap in bytes per second; 0 is unlimited (the session cap still applies).</summary>
    public long MaxDownloadRate { get; init; }

    /// <summary>
    /// Most peer connections of this torrent; 0 follows the session's <see cref="SessionOptions.MaxConnectionsPerTorrent"/>.
    /// Change it with <see cref="TorrentHandle.SetConnectionLimitsAsync"/>.
    /// </summary>
    public int MaxConnections { get; init; }

    /// <summary>Regular upload (unchoke) slots of this torrent; 0 follows the session's <see cref="SessionOptions.UnchokeSlots"/>.</summary>
    public int UploadSlots { get; init; }

    /// <summary>
    /// The torrent's own seeding goals; null follows the session's (<see cref="SessionOptions.SeedingGoals"/>). Change them
    /// with <see cref="TorrentHandle.SetSeedingGoalsAsync"/>.
    /// </summary>
    public SeedingGoals? SeedingGoals { get; init; }

    /// <summary>
    /// Where the torrent's bytes live, given its layout; null keeps them in files under <see cref="DownloadDirectory"/>.
    /// The engine owns (and disposes) what it returns.
    /// </summary>
    public Func<StorageLayout, IPieceStorage>? Storage { get; init; }

    /// <summary>
    /// Seed only: upload what is in <see cref="DownloadDirectory"/> and never write there. Files are opened read-only;
    /// nothing is requested, created, truncated or deleted. Pieces that are missing or do not match stay missing (the
    /// torrent seeds the rest and <see cref="TorrentHandle.Completion"/> does not complete). For sharing the user's own
    /// data: a torrent that does not match it must never cost them a byte.
    /// </summary>
    public bool SeedOnly { get; init; }

    /// <summary>
    /// Called once the data already in the folder is checked, before anything is written: the pieces that matched and
    /// the files that held something else (see <see cref="ExistingData"/>), so the user can be told what will
    /// be written over or cut. The torrent waits for the returned task; an exception from it stops the torrent with
    /// that error. Without seed-only mode, a file longer than the torrent's is then cut to the torrent's length.
    /// </summary>
    public Func<ExistingData, CancellationToken, Task>? DataChecked { get; init; }
}
