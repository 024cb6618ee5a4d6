using System.Globalization;
using System.Text;

namespace Shoal.Bench;

/// <summary>Markdown for the pair benchmark: environment, one row per run, medians per scenario.</summary>
internal static class ResultTable
{
    public static string Render(PairOptions options, Workspace workspace, string commandLine, PairOutcome outcome)
    {
        var (results, failures, pieceLength) = (outcome.Results, outcome.Failures, outcome.PieceLength);
        var md = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        md.AppendLine(options.LinkMbit > 0
            ? string.Create(inv, $"### pair: {ByteSize.Format(options.Size)}, one seeder -> one leecher over {(options.Utp ? "uTP" : "TCP")} on a {options.LinkMbit} Mbit/s link (shaped loopback in a network namespace)")
            : string.Create(inv, $"### pair: {ByteSize.Format(options.Size)}, one seeder -> one leecher over {(options.Utp ? "uTP" : "TCP")} on 127.0.0.1"));
        md.AppendLine();
        md.AppendLine(inv, $"- command: `{commandLine}`");
        md.AppendLine(inv, $"- date (UTC): {DateTime.UtcNow:yyyy-MM-dd HH:mm}");
        md.AppendLine(inv, $"- machine: {Environment.ProcessorCount} cores, {Machine.CpuModel()}, {Machine.MemoryTotal()}, {Machine.Kernel()}, {Machine.OperatingSystem()}");
        md.AppendLine(inv, $"- .NET {Environment.Version}, libtorrent {workspace.LibtorrentVersion} (python3-libtorrent), piece length {ByteSize.Format(pieceLength)}");
        md.AppendLine("- data: one file of seeded random bytes, in the page cache on both sides (disk speed is not measured)");
        md.AppendLine(options.Version switch
        {
            Shoal.Metainfo.TorrentVersion.V2 => "- torrent: v2 only (BEP 52, made by libtorrent: pieces verified against SHA-256 merkle trees, the v2 info-hash on the wire)",
            Shoal.Metainfo.TorrentVersion.Hybrid => "- torrent: hybrid v1 + v2 (BEP 52, made by libtorrent: each piece checked against SHA-1 and its merkle tree)",
            _ => "- torrent: v1 (SHA-1 pieces, made by libtorrent)",
        });
        md.AppendLine(inv, $"- machine load average when the table was written (1, 5, 15 min): {Machine.LoadAverage()}");
        md.AppendLine(options.Rc4
            ? "- encryption: MSE/PE with RC4 over the whole stream on both ends (shoal --encryption require, libtorrent forced + allowed_enc_level rc4)"
            : "- encryption: none (shoal --encryption disable, libtorrent plaintext)");
        md.AppendLine(options.Utp
            ? "- transport: uTP only on both ends (shoal --utp-only, libtorrent with TCP off both ways)"
            : "- transport: TCP only on both ends (shoal --no-utp, libtorrent with uTP off)");
        md.AppendLine("- wall = leecher process start to exit (includes its startup); CPU = user+system seconds, the system (kernel) part in brackets");
        md.AppendLine("- peak RSS = VmHWM (includes file pages a client maps: libtorrent 2.0 mmaps the data, so its RSS grows with the file);");
        md.AppendLine("  anon = highest RssAnon seen while sampling every 100 ms (heap and buffers only)");
        md.AppendLine("- seeder CPU counts only the transfer window (leecher start to exit), after the seeder finished checking its data");
        if (results.Any(r => r.Scenario.EndsWith("-tr", StringComparison.Ordinal)))
        {
            md.AppendLine("- tr = transmission-cli (dialled by the seeder; it never exits): wall runs from the seeder's TCP connection to its \"Seeding\" line,");
            md.AppendLine("  stopped then with SIGINT; its CPU and peak RSS (GNU time) include its startup and the wait for the seeder");
        }
        md.AppendLine();
        md.AppendLine("| scenario (seeder -> leecher) | run | wall s | MiB/s | leecher CPU s (system) | seeder CPU s | leecher peak RSS / anon MiB | seeder peak RSS / anon MiB | data |");
        md.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
        foreach (var r in results) Row(md, r.Scenario, r.Run.ToString(inv), r);
        if (options.Runs > 1)
        {
            foreach (var median in outcome.Medians()) Row(md, "**" + median.Scenario + "**", "median", median);
        }
        foreach (var failure in failures) md.AppendLine(inv, $"| {failure} | | failed | | | | | | |");
        return md.ToString();
    }

    private static void Row(StringBuilder md, string scenario, string run, PairResult r)
    {
        var inv = CultureInfo.InvariantCulture;
        md.AppendLine(inv,
            $"| {scenario} | {run} | {r.WallSeconds:0.00} | {r.MiBPerSecond:0.0} | {r.LeecherCpuSeconds:0.00}{(double.IsNaN(r.LeecherSystemSeconds) ? "" : string.Create(inv, $" ({r.LeecherSystemSeconds:0.00})"))} | {r.SeederCpuSeconds:0.00} | {r.LeecherPeakRss / 1048576.0:0} / {r.LeecherPeakAnon / 1048576.0:0} | {r.SeederPeakRss / 1048576.0:0} / {r.SeederPeakAnon / 1048576.0:0} | {(r.Verified ? "identical" : "**DIFFERS**")} |");
    }
}
