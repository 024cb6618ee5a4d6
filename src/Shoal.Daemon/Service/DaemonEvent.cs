namespace Shoal.Daemon.Service;

/// <summary>One entry of the daemon's event stream.</summary>
/// <param name="Sequence">Position in the stream, from 1, gap-free within one daemon run.</param>
/// <param name="Kind">What happened.</param>
/// <param name="Time">When.</param>
/// <param name="TorrentId">The torrent concerned, if one is.</param>
/// <param name="InfoHash">Its info-hash, 40 hex digits.</param>
/// <param name="Name">Its name.</param>
/// <param name="State">Its state after the event (state changes).</param>
/// <param name="Message">Words for the user: the reason, the error, the tracker URL and its error.</param>
/// <param name="FileIndex">The file concerned (file completed).</param>
/// <param name="Torrents">The changed rows (<see cref="DaemonEventKind.Updated"/>, <see cref="DaemonEventKind.Added"/>).</param>
public sealed record DaemonEvent(
    long Sequence,
    DaemonEventKind Kind,
    DateTimeOffset Time,
    long? TorrentId = null,
    string? InfoHash = null,
    string? Name = null,
    TorrentActivity? State = null,
    string? Message = null,
    int? FileIndex = null,
    IReadOnlyList<TorrentView>? Torrents = null);
