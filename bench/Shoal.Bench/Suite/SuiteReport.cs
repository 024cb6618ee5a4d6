using System.Globalization;
using System.Text;
using Shoal.Bench.Peers;
using Shoal.Bench.Recheck;
using Shoal.Bench.Swarm;

namespace Shoal.Bench.Suite;

/// <summary>
/// The suite's markdown report: the run's setting (machine, software, command, load), the targets, a status row per
/// benchmark (with the one-line reason when it failed), and every benchmark's own table. Rendered again after each
/// benchmark, so a report written mid-run holds everything measured so far.
/// </summary>
internal sealed class SuiteReport(SuiteOptions options, string command, DateTime started, string loadBefore, IReadOnlyList<string> setting)
{
    private readonly List<Section> _sections = [];

    /// <summary>One benchmark's place in the report. <paramref name="Problem"/> is null when it succeeded.</summary>
    public sealed record Section(string Name, string Title, double Seconds, string? Problem, string? Markdown);

    public IReadOnlyList<Section> Sections => _sections;

    public bool AllSucceeded => _sections.All(s => s.Problem is null);

    public PairOutcome? Pair { get; set; }

    public PairOutcome? Transmission { get; set; }

    /// <summary>The pair scenarios with MSE/PE RC4 on both ends.</summary>
    public PairOutcome? PairRc4 { get; set; }

    /// <summary>The pair scenarios without encryption over a shaped gigabit link.</summary>
    public PairOutcome? PairLinkPlain { get; set; }

    /// <summary>The pair scenarios with RC4 on both ends over the same link.</summary>
    public PairOutcome? PairLinkRc4 { get; set; }

    public SwarmOutcome? Swarm { get; set; }

    public SwarmOutcome? SwarmMixed { get; set; }

    public SwarmOutcome? SwarmLibtorrent { get; set; }

    public RecheckOutcome? Recheck { get; set; }

    public PeersOutcome? Peers { get; set; }

    public void Add(Section section) => _sections.Add(section);

    /// <summary>The report; <paramref name="loadAfter"/> null while benchmarks are still running.</summary>
    public string Render(string? loadAfter)
    {
        var inv = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        DateTime now = DateTime.UtcNow;
        md.AppendLine("# Shoal benchmark suite");
        md.AppendLine();
        if (loadAfter is null)
        {
            md.AppendLine(inv, $"**Incomplete: written while running, {_sections.Count} of {options.Only.Count} benchmarks done.**");
            md.AppendLine();
        }
        md.AppendLine(inv, $"- command: `{command}`");
        md.AppendLine(options.Quick
            ? "- mode: **quick** (small sizes: a smoke test; the figures are not comparable with the targets or with full runs)"
            : "- mode: full");
        md.AppendLine(inv, $"- date (UTC): {started:yyyy-MM-dd HH:mm} to {now:HH:mm} ({(now - started).TotalMinutes:0.0} min)");
        foreach (string line in setting) md.AppendLine("- " + line);
        md.AppendLine(inv, $"- load average (1 / 5 / 15 min): before {loadBefore}; after {loadAfter ?? "(running)"}");
        md.AppendLine("- units: MB = 10^6 bytes, MiB = 2^20 bytes, GiB = 2^30 bytes");
        md.AppendLine();

        md.AppendLine("## Targets (issue 6: reported, never asserted)");
        md.AppendLine();
        md.AppendLine("| target | goal | measured | status |");
        md.AppendLine("| --- | --- | --- | --- |");
        foreach (SuiteTargets.Target t in SuiteTargets.Evaluate(Pair, Transmission, Swarm, SwarmMixed, SwarmLibtorrent, Recheck, Peers, PairRc4, PairLinkPlain, PairLinkRc4))
        {
            string status = t.Met switch { true => "pass", false => "**fail**", null => "n/a" };
            md.AppendLine(inv, $"| {t.Name} | {t.Goal} | {t.Measured} | {status} |");
        }
        md.AppendLine();
        if (options.Quick)
        {
            md.AppendLine("Quick mode: small files and short phases, so pass and fail above say nothing about the targets.");
            md.AppendLine();
        }

        md.AppendLine("## Benchmarks");
        md.AppendLine();
        md.AppendLine("| benchmark | status | minutes | reason |");
        md.AppendLine("| --- | --- | ---: | --- |");
        foreach (Section s in _sections)
        {
            md.AppendLine(inv, $"| {s.Name} | {(s.Problem is null ? "ok" : "**failed**")} | {s.Seconds / 60:0.0} | {s.Problem ?? ""} |");
        }
        foreach (string name in options.Only.Where(n => _sections.All(s => s.Name != n)))
        {
            md.AppendLine(inv, $"| {name} | not run yet | | |");
        }
        md.AppendLine();

        if (Pair is not null || Transmission is not null || PairRc4 is not null || PairLinkPlain is not null || PairLinkRc4 is not null) AppendPairSummary(md);
        foreach (Section s in _sections)
        {
            md.AppendLine("## " + s.Title);
            md.AppendLine();
            if (s.Problem is not null)
            {
                md.AppendLine("Failed: " + s.Problem);
                md.AppendLine();
            }
            if (s.Markdown is not null)
            {
                md.AppendLine(s.Markdown.TrimEnd());
                md.AppendLine();
            }
        }
        return md.ToString();
    }

    /// <summary>One row per pair scenario (median of its runs) with the issue's units: MB/s, CPU seconds per GiB, peak memory.</summary>
    private void AppendPairSummary(StringBuilder md)
    {
        var inv = CultureInfo.InvariantCulture;
        md.AppendLine("## Pair summary: medians, seeder -> leecher over loopback (or the link a row names)");
        md.AppendLine();
        md.AppendLine("| scenario | size | runs | MB/s | MiB/s | leecher CPU s per GiB | seeder CPU s per GiB | leecher peak RSS / anon MiB | seeder peak RSS / anon MiB | data |");
        md.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
        foreach (PairOutcome outcome in new[] { Pair, PairRc4, PairLinkPlain, PairLinkRc4, Transmission }.OfType<PairOutcome>())
        {
            string suffix = outcome == PairRc4 ? " rc4" : outcome == PairLinkPlain ? " (1 Gbit/s link)" : outcome == PairLinkRc4 ? " rc4 (1 Gbit/s link)" : "";
            foreach (PairResult m in outcome.Medians())
            {
                int runs = outcome.Results.Count(r => r.Scenario == m.Scenario);
                md.AppendLine(inv,
                    $"| {m.Scenario}{suffix} | {ByteSize.Format(m.Bytes)} | {runs} | {m.MBPerSecond:0.0} | {m.MiBPerSecond:0.0} | {m.LeecherCpuPerGiB:0.00} | {m.SeederCpuPerGiB:0.00} | " +
                    $"{m.LeecherPeakRss / 1048576.0:0} / {m.LeecherPeakAnon / 1048576.0:0} | {m.SeederPeakRss / 1048576.0:0} / {m.SeederPeakAnon / 1048576.0:0} | " +
                    $"{(m.Verified ? "identical" : "**DIFFERS**")} |");
            }
        }
        md.AppendLine();
        if (Transmission is null) return;
        md.AppendLine("tr = transmission-cli: its wall time runs from the seeder's connection to its \"Seeding\" line, and its CPU and memory include its");
        md.AppendLine("start-up and the 11-15 s it idles before requesting, so its rows are smaller (fewer bytes, fewer runs) and its CPU per GiB is not comparable.");
        md.AppendLine();
    }
}
