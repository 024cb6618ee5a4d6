using System.Globalization;
using System.Text;
using Shoal.Tests.Dht;

namespace Shoal.Bench.Dht;

/// <summary>
/// The DHT lookup figures: <see cref="DhtLookupSimulation"/> (the very simulation DhtSimulationTests asserts on,
/// compiled in from the test project) run with its figures reported instead of asserted. Virtual time: the
/// lookup times are simulated network time, not machine speed; the wall time is how long simulating took.
/// </summary>
internal static class DhtBenchmark
{
    public const string Usage = "dht [--nodes 2000] [--lookups 200] [--info-hashes 40] [--loss 0.05] [--churn 0.3] [--seed 42]";

    public static Task<int> RunAsync(string[] args)
    {
        DhtLookupSimulation.Result result = Measure(Parse(args));
        Console.WriteLine(Render(result, $"dht {string.Join(' ', args)}".TrimEnd()));
        return Task.FromResult(Succeeded(result) ? 0 : 1);
    }

    public static DhtLookupSimulation.Settings Parse(string[] args)
    {
        var s = new DhtLookupSimulation.Settings();
        for (int i = 0; i < args.Length; i++)
        {
            string value = i + 1 < args.Length ? args[i + 1] : throw new BenchUsageException($"{args[i]} needs a value");
            s = args[i] switch
            {
                "--nodes" => s with { NodeCount = Int(value, 50, 100_000) },
                "--lookups" => s with { LookupsPerPhase = Int(value, 1, 100_000) },
                "--info-hashes" => s with { InfoHashes = Int(value, 1, 10_000) },
                "--loss" => s with { LossRate = Fraction(value, 0, 0.9) },
                "--churn" => s with { ChurnFraction = Fraction(value, 0, 0.9) },
                "--seed" => s with { Seed = Int(value, 0, int.MaxValue) },
                _ => throw new BenchUsageException($"dht: unknown option {args[i]}"),
            };
            i++;
        }
        return s;
    }

    /// <summary>Runs the simulation on this thread (it is single-threaded by design: virtual time).</summary>
    public static DhtLookupSimulation.Result Measure(DhtLookupSimulation.Settings settings)
    {
        Console.Error.WriteLine($"[dht] simulating {settings.NodeCount} nodes...");
        return DhtLookupSimulation.Run(settings);
    }

    /// <summary>The same bars as the test: 99% success before churn, 95% after, no internal errors.</summary>
    public static bool Succeeded(DhtLookupSimulation.Result r) =>
        r.MinAnnouncedTo > 0 && r.BeforeChurn.SuccessRate >= 0.99 && r.AfterChurn.SuccessRate >= 0.95 && r.InternalErrors == 0;

    public static string Render(DhtLookupSimulation.Result r, string command)
    {
        var inv = CultureInfo.InvariantCulture;
        DhtLookupSimulation.Settings s = r.Settings;
        var md = new StringBuilder();
        md.AppendLine(inv, $"### dht: get_peers lookups among {s.NodeCount:N0} simulated nodes, virtual time");
        md.AppendLine();
        md.AppendLine(inv, $"- command: `{command}` (the simulation of tests/Shoal.Tests/Dht/DhtSimulationTests.cs)");
        md.AppendLine(inv,
            $"- network: {s.OneWayLatency.TotalMilliseconds:0} ms ± {s.Jitter.TotalMilliseconds:0} ms one way, {s.LossRate * 100:0.#}% of datagrams dropped; BEP 42 ids on random public addresses; " +
            $"{s.JoinsPerSecond} joins per virtual second, 3 bootstrap nodes each; {s.InfoHashes} info-hashes announced; {s.LookupsPerPhase} lookups per phase from random live nodes");
        md.AppendLine(inv,
            $"- success = the announcer's IP:port is among the peers returned; {r.Datagrams:N0} datagrams ({r.Dropped:N0} dropped), {r.Events:N0} events, " +
            $"median routing table {r.MedianTableSize:0} nodes; simulated in {r.WallTime.TotalSeconds:0.0} s of wall time; internal errors: {r.InternalErrors}");
        md.AppendLine("- the second phase runs after the share of nodes in its name vanished without warning and the rest ran one 15-minute refresh period");
        md.AppendLine();
        md.AppendLine("| phase | success | lookup to end (median / p90) | first peers (median / p90) | hops (median) | first-peers hop (median) | queries per lookup (median / p90) |");
        md.AppendLine("| --- | --- | --- | --- | ---: | ---: | --- |");
        foreach (DhtLookupSimulation.Phase p in (DhtLookupSimulation.Phase[])[r.BeforeChurn, r.AfterChurn])
        {
            md.AppendLine(inv,
                $"| {p.Name} | {p.Succeeded}/{p.Lookups.Count} | {p.ElapsedMs(0.5):0} / {p.ElapsedMs(0.9):0} ms | {p.FirstPeersMs(0.5):0} / {p.FirstPeersMs(0.9):0} ms | " +
                $"{p.Hops(0.5):0} | {p.FirstPeersHop(0.5):0} | {p.Queries(0.5):0} / {p.Queries(0.9):0} |");
        }
        return md.ToString();
    }

    private static int Int(string text, int min, int max) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= min && n <= max
            ? n
            : throw new BenchUsageException($"'{text}' must be a whole number from {min} to {max}");

    private static double Fraction(string text, double min, double max) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double x) && x >= min && x <= max
            ? x
            : throw new BenchUsageException($"'{text}' must be a fraction from {min} to {max}");
}
