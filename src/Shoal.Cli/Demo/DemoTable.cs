using System.Globalization;
using Spectre.Console;

namespace Shoal.Cli.Demo;

/// <summary>One row of the demo's live table.</summary>
/// <param name="Peer">"seeder" or "leecher 3".</param>
/// <param name="Progress">0..1.</param>
/// <param name="DownloadRate">Bytes per second.</param>
/// <param name="UploadRate">Bytes per second.</param>
/// <param name="Peers">Connected peers.</param>
/// <param name="PeerShare">Share of its bytes that came from other leechers; null for the seeder.</param>
/// <param name="DoneAt">When it finished; null while it has not.</param>
internal sealed record DemoRow(string Peer, double Progress, long DownloadRate, long UploadRate, int Peers, double? PeerShare, TimeSpan? DoneAt);

/// <summary>
/// The demo's live table, narrow enough for an 80-column terminal with every row on one line (64 leechers, rates in
/// the hundreds of MiB/s, the largest values included): a short bar, rates without "/s" (the headers say it).
/// </summary>
internal static class DemoTable
{
    private const int BarWidth = 10;

    /// <summary>The table for one refresh.</summary>
    public static Table Build(TimeSpan elapsed, IReadOnlyList<DemoRow> rows)
    {
        // A simple border and one space of padding: seven columns with a rule under the header, about 75 wide.
        var table = new Table().Border(TableBorder.Simple);
        foreach (TableColumn column in new[]
        {
            new TableColumn("peer"),
            new TableColumn("progress"),
            new TableColumn("down/s").RightAligned(),
            new TableColumn("up/s").RightAligned(),
            new TableColumn("peers").RightAligned(),
            new TableColumn("p2p").RightAligned(),
            new TableColumn("done").RightAligned(),
        })
        {
            table.AddColumn(column.PadLeft(0).PadRight(1));
        }
        table.Title = new TableTitle($"elapsed {HumanFormat.Seconds(elapsed)}  (p2p: share of bytes from other leechers)");
        foreach (DemoRow row in rows)
        {
            table.AddRow(
                new Text(row.Peer),
                new Markup(Bar(row.Progress)),
                new Text(HumanFormat.Size(row.DownloadRate)),
                new Text(HumanFormat.Size(row.UploadRate)),
                new Text(row.Peers.ToString(CultureInfo.InvariantCulture)),
                new Text(row.PeerShare is { } share ? HumanFormat.Percent(share) : ""),
                new Text(row.DoneAt is { } t ? HumanFormat.Seconds(t) : ""));
        }
        return table;
    }

    private static string Bar(double progress)
    {
        double p = Math.Clamp(double.IsFinite(progress) ? progress : 0, 0, 1);
        int filled = (int)Math.Round(p * BarWidth);
        return $"[green]{new string('━', filled)}[/][grey]{new string('━', BarWidth - filled)}[/] {HumanFormat.Percent(p),6}";
    }
}
