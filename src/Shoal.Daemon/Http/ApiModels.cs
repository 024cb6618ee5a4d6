using Shoal.Daemon.Service;

namespace Shoal.Daemon.Http;

/// <summary>POST /api/v1/auth/login.</summary>
/// <param name="Password">The daemon's password.</param>
public sealed record LoginRequest(string? Password);

/// <summary>What GET /api/v1/session answers: what a client needs before its first change.</summary>
/// <param name="Version">Shoal's version.</param>
/// <param name="ApiVersion">The native API's version (this document's paths are under /api/v1).</param>
/// <param name="CsrfToken">The token to send in X-Shoal-Csrf with every POST, PUT, PATCH and DELETE.</param>
/// <param name="PasswordRequired">The daemon asks for a password.</param>
/// <param name="EventsEpoch">Names this run of the daemon in event ids.</param>
public sealed record SessionInfo(string Version, int ApiVersion, string CsrfToken, bool PasswordRequired, string EventsEpoch);

/// <summary>A list of torrents named by id, info-hash or prefix ("all" for every one).</summary>
/// <param name="Ids">The torrents.</param>
public sealed record IdsRequest(IReadOnlyList<string>? Ids);

/// <summary>POST /api/v1/torrents/remove.</summary>
/// <param name="Ids">The torrents.</param>
/// <param name="DeleteData">Delete their files too.</param>
public sealed record RemoveRequest(IReadOnlyList<string>? Ids, bool DeleteData);

/// <summary>What a removal did.</summary>
/// <param name="Removed">Torrents removed.</param>
/// <param name="Problems">Files or folders that could not be deleted.</param>
public sealed record RemoveResult(int Removed, IReadOnlyList<string> Problems);

/// <summary>POST /api/v1/torrents as JSON: one torrent by URI (magnet, info-hash, http(s) URL) or base64 metainfo.</summary>
/// <param name="Uri">A magnet link, an info-hash or an http(s) URL of a .torrent.</param>
/// <param name="Metainfo">A .torrent file, base64.</param>
/// <param name="SavePath">Its folder (default: the category's, else the default folder).</param>
/// <param name="Paused">Add it paused.</param>
/// <param name="ForceStart">Run it whatever the queue says.</param>
/// <param name="Sequential">Download in order.</param>
/// <param name="Category">Its category (created when missing).</param>
/// <param name="Tags">Its tags.</param>
/// <param name="FilePriorities">Priorities by file index.</param>
/// <param name="Trackers">Extra trackers.</param>
/// <param name="DownloadLimit">Download cap, bytes/s (0: none).</param>
/// <param name="UploadLimit">Upload cap, bytes/s (0: none).</param>
/// <param name="RatioLimit">Ratio goal (negative: none; absent: the session's).</param>
/// <param name="SeedingTimeLimitMinutes">Seeding-time goal (negative: none; absent: the session's).</param>
/// <param name="IdleLimitMinutes">Idle goal (negative: none; absent: the session's).</param>
/// <param name="FirstLastPiecePriority">Download the first and last piece of every wanted file first.</param>
public sealed record AddRequest(
    string? Uri = null,
    string? Metainfo = null,
    string? SavePath = null,
    bool Paused = false,
    bool ForceStart = false,
    bool Sequential = false,
    string? Category = null,
    IReadOnlyList<string>? Tags = null,
    IReadOnlyList<FilePriority>? FilePriorities = null,
    IReadOnlyList<string>? Trackers = null,
    long DownloadLimit = 0,
    long UploadLimit = 0,
    double? RatioLimit = null,
    int? SeedingTimeLimitMinutes = null,
    int? IdleLimitMinutes = null,
    bool FirstLastPiecePriority = false);

/// <summary>What an add did: the torrents added and, per source, why the others were not.</summary>
/// <param name="Added">The new rows.</param>
/// <param name="Failed">The sources that failed.</param>
public sealed record AddResult(IReadOnlyList<TorrentView> Added, IReadOnlyList<AddFailure> Failed);

/// <summary>One source that could not be added.</summary>
/// <param name="Source">The file name or URI.</param>
/// <param name="Error">Why.</param>
/// <param name="Status">The HTTP status an add of this source alone would have answered (409 a duplicate, 400 bad input, ...).</param>
public sealed record AddFailure(string Source, string Error, int Status = 400);

/// <summary>POST /api/v1/torrents/{id}/files/priority.</summary>
/// <param name="Files">File indices.</param>
/// <param name="Priority">skip, low, normal or high.</param>
public sealed record PriorityRequest(IReadOnlyList<int>? Files, FilePriority? Priority);

/// <summary>POST /api/v1/torrents/queue.</summary>
/// <param name="Ids">The torrents.</param>
/// <param name="Move">top, up, down or bottom.</param>
public sealed record QueueRequest(IReadOnlyList<string>? Ids, QueueMove? Move);

/// <summary>POST /api/v1/torrents/category.</summary>
/// <param name="Ids">The torrents.</param>
/// <param name="Category">The category; null or empty clears it.</param>
public sealed record SetCategoryRequest(IReadOnlyList<string>? Ids, string? Category);

/// <summary>POST /api/v1/torrents/tags/add and /remove.</summary>
/// <param name="Ids">The torrents.</param>
/// <param name="Tags">The tags.</param>
public sealed record TagsRequest(IReadOnlyList<string>? Ids, IReadOnlyList<string>? Tags);

/// <summary>POST /api/v1/categories.</summary>
/// <param name="Name">The category.</param>
/// <param name="SavePath">Its folder; empty for the default folder.</param>
public sealed record CategoryRequest(string? Name, string? SavePath);

/// <summary>POST /api/v1/tags and DELETE /api/v1/tags.</summary>
/// <param name="Tags">The tags.</param>
public sealed record TagListRequest(IReadOnlyList<string>? Tags);

/// <summary>POST /api/v1/auth/password.</summary>
/// <param name="Current">The password now (when one is set).</param>
/// <param name="New">The new password; empty removes it (allowed only on a loopback address).</param>
public sealed record PasswordRequest(string? Current, string? New);

/// <summary>The body of every error answer.</summary>
/// <param name="Error">What is wrong, in words.</param>
public sealed record ErrorBody(string Error);
