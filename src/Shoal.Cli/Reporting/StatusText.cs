using System.Globalization;
using Shoal.Swarm;
using Shoal.Trackers;

namespace Shoal.Cli.Reporting;

/// <summary>
/// The words the status displays use, as pure functions of a snapshot: the summary ("downloading ↓ 1.20 MiB/s ...")
/// and, when something is wrong, the problem line (the reason a torrent is paused or stopped; why no peer is
/// connected). Everything that came from outside is escaped (<see cref="TerminalText"/>).
/// </summary>
internal static class StatusText
{
    /// <summary>"1 peer", "3 peers (tracker 2, dht 1; 1 encrypted)".</summary>
    public static string Peers(TorrentStatus status)
    {
        string count = status.Peers == 1 ? "1 peer" : status.Peers.ToString(CultureInfo.InvariantCulture) + " peers";
        return count + StatusDisplay.PeerOrigins(status);
    }

    /// <summary>
    /// "downloading  ↓ 1.20 MiB/s  ↑ 0 B/s  3 peers (tracker 2)  ETA 0:12"; with <paramref name="arrows"/> false, "down"
    /// and "up" instead of arrows (plain logs). No ETA unless downloading: a seed has nothing left to wait for.
    /// </summary>
    public static string Summary(TorrentStatus status, bool arrows)
    {
        string down = arrows ? "↓ " : "down ", up = arrows ? "↑ " : "up ";
        string text = $"{StatusJson.StateName(status.State)}{CheckProgress(status)}  {down}{HumanFormat.Rate(status.DownloadRate)}  {up}{HumanFormat.Rate(status.UploadRate)}  {Peers(status)}";
        if (status.State == TorrentState.Downloading) text += $"  ETA {HumanFormat.Duration(status.Eta)}";
        return text;
    }

    /// <summary>" 120/512" while the data is being checked (pieces checked of all), else nothing.</summary>
    private static string CheckProgress(TorrentStatus status) =>
        status.State == TorrentState.Checking && status.PieceCount > 0 ? $" {status.CheckedPieces}/{status.PieceCount}" : "";

    /// <summary>
    /// What is wrong, or null: the error of a paused or failed torrent, or, while a download has no peer, what was
    /// tried (the addresses known and where from, the last failed dial, a failing tracker, the sources turned off).
    /// </summary>
    public static string? Problem(TorrentStatus status, IReadOnlyList<TrackerStatus> trackers, PeerSources sources)
    {
        if (status.State == TorrentState.Paused) return $"paused: {TerminalText.Escape(ErrorReporter.OneLine(status.Error ?? "disk error"))}; retrying";
        if (status.State == TorrentState.Error) return $"stopped: {TerminalText.Escape(ErrorReporter.OneLine(status.Error ?? "unknown error"))}";
        if (status.Peers > 0 || status.State is not (TorrentState.Downloading or TorrentState.FetchingMetadata)) return null;

        var parts = new List<string>(4);
        PeerSearch? search = status.Search;
        if (search is null || search.Known == 0) parts.Add("no peer connected: no address known yet");
        else parts.Add($"no peer connected: {search.Known} {(search.Known == 1 ? "address" : "addresses")} known ({search.KnownFrom}), {search.Tried} tried");
        if (search?.LastFailure is { } failure) parts.Add("last: " + TerminalText.Escape(ErrorReporter.OneLine(failure)));
        TrackerStatus? failing = trackers.FirstOrDefault(t => t.LastError is not null);
        if (trackers.Count == 0) parts.Add("no tracker");
        else if (failing is not null) parts.Add($"tracker {TerminalText.Escape(failing.Url.ToString())}: {TerminalText.Escape(ErrorReporter.OneLine(failing.LastError!))}");
        if (sources.Off.Count > 0) parts.Add(string.Join(" and ", sources.Off) + " off");
        return string.Join("; ", parts);
    }

    /// <summary><paramref name="text"/> cut to <paramref name="width"/> columns, with "…" when cut.</summary>
    public static string Fit(string text, int width)
        => width <= 0 ? "" : text.Length <= width ? text : width == 1 ? "…" : text[..(width - 1)] + "…";
}

/// <summary>Which ways of finding peers the user turned off (for the no-peer explanation).</summary>
/// <param name="Off">"DHT", "local discovery" (empty when all are on).</param>
internal sealed record PeerSources(IReadOnlyList<string> Off)
{
    /// <summary>Every source on.</summary>
    public static PeerSources All { get; } = new([]);
}
