using System.Globalization;
using Shoal.Daemon.Service;

namespace Shoal.Cli.Remote;

/// <summary>Plain-text tables of the daemon's answers, for <c>shoal list</c>, <c>show</c> and <c>stats</c>.</summary>
internal static class TorrentPrinter
{
    /// <summary>One line per torrent under a header; names cut to fit.</summary>
    public static void List(TextWriter output, IReadOnlyList<TorrentView> torrents)
    {
        output.WriteLine($"{"ID",4}  {"NAME",-40}  {"STATE",-17}  {"DONE",6}  {"SIZE",9}  {"DOWN",10}  {"UP",10}  {"RATIO",5}  {"ETA",8}");
        foreach (TorrentView t in torrents)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{t.Id,4}  {Cut(t.Name, 40),-40}  {ServiceJson.Name(t.State),-17}  {HumanFormat.Percent(t.Progress),6}  {HumanFormat.Size(t.WantedSize),9}  {HumanFormat.Rate(t.DownRate),10}  {HumanFormat.Rate(t.UpRate),10}  {t.Ratio,5:0.00}  {Eta(t.EtaSeconds),8}"));
        }
        if (torrents.Count == 0) output.WriteLine("(no torrents)");
    }

    /// <summary>Everything about one torrent: status, files with numbers and priorities, peers, trackers.</summary>
    public static void Show(TextWriter output, TorrentDetails details, IReadOnlyList<FileView> files, IReadOnlyList<PeerView> peers, IReadOnlyList<TrackerView> trackers)
    {
        TorrentView t = details.Torrent;
        output.WriteLine($"{t.Name}");
        Line(output, "id", t.Id.ToString(CultureInfo.InvariantCulture));
        Line(output, "info-hash", t.InfoHash);
        Line(output, "state", $"{ServiceJson.Name(t.State)} ({t.StateReason})");
        if (t.Error is not null) Line(output, "error", t.Error);
        Line(output, "progress", $"{HumanFormat.Percent(t.Progress)} of {HumanFormat.Size(t.WantedSize)} wanted ({HumanFormat.Size(t.TotalSize)} in all)");
        Line(output, "rates", $"down {HumanFormat.Rate(t.DownRate)}, up {HumanFormat.Rate(t.UpRate)}, ETA {Eta(t.EtaSeconds)}");
        Line(output, "totals", string.Create(CultureInfo.InvariantCulture, $"downloaded {HumanFormat.Size(t.Downloaded)}, uploaded {HumanFormat.Size(t.Uploaded)}, ratio {t.Ratio:0.00}"));
        Line(output, "peers", $"{t.Peers} connected, {t.Seeds} seeds");
        Line(output, "folder", t.SavePath);
        if (t.Category is not null) Line(output, "category", t.Category);
        if (t.Tags.Count > 0) Line(output, "tags", string.Join(", ", t.Tags));
        Line(output, "queue", t.QueuePosition.ToString(CultureInfo.InvariantCulture) + (t.ForceStarted ? " (force-started)" : ""));
        Line(output, "added", t.AddedAt.ToString("yyyy-MM-dd HH:mm:ss zzz", CultureInfo.InvariantCulture));
        if (t.CompletedAt is { } done) Line(output, "completed", done.ToString("yyyy-MM-dd HH:mm:ss zzz", CultureInfo.InvariantCulture));
        Line(output, "seeding", HumanFormat.Duration(TimeSpan.FromSeconds(t.SeedingSeconds)));
        if (t.DownloadLimit > 0 || t.UploadLimit > 0) Line(output, "limits", $"down {Limit(t.DownloadLimit)}, up {Limit(t.UploadLimit)}");
        if (t.Sequential || t.FirstLastPiecePriority)
            Line(output, "mode", string.Join(", ", new[] { t.Sequential ? "sequential" : null, t.FirstLastPiecePriority ? "first and last pieces first" : null }.OfType<string>()));
        Line(output, "magnet", details.Magnet);

        output.WriteLine();
        output.WriteLine($"files ({files.Count}):");
        foreach (FileView f in files)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {f.Index,4}  {ServiceJson.Name(f.Priority),-6}  {HumanFormat.Percent(f.Progress),6}  {HumanFormat.Size(f.Size),9}  {f.Path}"));
        }
        output.WriteLine();
        output.WriteLine($"peers ({peers.Count}):");
        foreach (PeerView p in peers)
        {
            output.WriteLine($"  {p.Address,-22}  {Cut(p.Client, 20),-20}  {p.Flags,-5}  {HumanFormat.Percent(p.Progress),6}  down {HumanFormat.Rate(p.DownRate),10}  up {HumanFormat.Rate(p.UpRate),10}  {p.Source}");
        }
        output.WriteLine();
        output.WriteLine($"trackers ({trackers.Count}):");
        foreach (TrackerView tr in trackers)
        {
            string seeds = tr.Seeds is { } s ? $", {s} seeds, {tr.Leechers ?? 0} leechers" : "";
            output.WriteLine($"  tier {tr.Tier}  {tr.Url}  {tr.Status}{seeds}{(tr.LastError is { } e ? ": " + e : "")}");
        }
    }

    /// <summary>The daemon's totals.</summary>
    public static void Stats(TextWriter output, SessionStatsView s)
    {
        Line(output, "torrents", string.Create(CultureInfo.InvariantCulture,
            $"{s.Torrents} ({s.Downloading} downloading, {s.Seeding} seeding, {s.Paused} paused, {s.Queued} queued, {s.Checking} checking, {s.Errored} with errors)"));
        Line(output, "rates", $"down {HumanFormat.Rate(s.DownRate)}, up {HumanFormat.Rate(s.UpRate)}");
        Line(output, "limits", $"down {Limit(s.DownloadLimit)}, up {Limit(s.UploadLimit)}{(s.AltSpeedActive ? " (alternative limits)" : "")}");
        Line(output, "totals", $"downloaded {HumanFormat.Size(s.Downloaded)}, uploaded {HumanFormat.Size(s.Uploaded)}");
        Line(output, "peers", s.Peers.ToString(CultureInfo.InvariantCulture));
        Line(output, "dht nodes", s.DhtNodes.ToString(CultureInfo.InvariantCulture));
        Line(output, "peer port", s.ListenPort.ToString(CultureInfo.InvariantCulture));
        Line(output, "free space", s.FreeSpace < 0 ? "unknown" : HumanFormat.Size(s.FreeSpace));
        Line(output, "uptime", HumanFormat.Duration(TimeSpan.FromSeconds(s.UptimeSeconds)));
    }

    private static void Line(TextWriter output, string label, string value) => output.WriteLine($"  {label + ":",-11} {value}");

    private static string Limit(long rate) => rate <= 0 ? "unlimited" : HumanFormat.Rate(rate);

    private static string Eta(long? seconds) => seconds is { } s ? HumanFormat.Duration(TimeSpan.FromSeconds(s)) : "-";

    private static string Cut(string text, int width) => text.Length <= width ? text : text[..(width - 1)] + "…";
}
