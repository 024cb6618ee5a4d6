using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

using Shoal.Tests.Fuzz;

namespace Shoal.Bench.Fuzz;

/// <summary>
/// `shoal-bench fuzz`: a long, on-demand mutation fuzzer over every parser, seeded with valid inputs built in
/// code. The bounded in-test fuzzers run a few thousand inputs; this one runs for minutes or hours.
/// </summary>
internal static class FuzzCommand
{
    public const string Usage = """
        usage: shoal-bench fuzz [--target NAME|all] [--seconds N] [--seed N] [--out DIR]
          --target   one of the targets below, or all (default)
          --seconds  time per target, default 60
          --seed     random seed, default from the clock (printed so a run can be repeated)
          --out      where findings go, default fuzz-findings/
        targets: 
        """;

    /// <summary>Inputs longer than this are cut: parsers have their own limits and big inputs only slow the run.</summary>
    private const int MaxInputLength = 64 * 1024;

    /// <summary>Corpus cap per target; successful inputs replace random non-seed entries once it is full.</summary>
    private const int MaxCorpus = 4096;

    /// <summary>Saved files per distinct finding signature (type + throwing frame); the rest are only counted.</summary>
    private const int MaxSavedPerSignature = 3;

    public static async Task<int> RunAsync(string[] args)
    {
        string target = "all";
        int seconds = 60;
        int seed = Environment.TickCount & int.MaxValue;
        string output = "fuzz-findings";
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new BenchUsageException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--target": target = Next(); break;
                case "--seconds": seconds = ParseInt(Next(), 1, 7 * 24 * 3600); break;
                case "--seed": seed = ParseInt(Next(), 0, int.MaxValue); break;
                case "--out": output = Next(); break;
                case "-h" or "--help": Console.WriteLine(Usage + string.Join(", ", FuzzParsers.Names)); return 0;
                default: throw new BenchUsageException($"unknown option '{args[i]}'\n{Usage}{string.Join(", ", FuzzParsers.Names)}");
            }
        }
        string[] targets = target == "all" ? FuzzParsers.Names
            : Array.IndexOf(FuzzParsers.Names, target) >= 0 ? [target]
            : throw new BenchUsageException($"unknown fuzz target '{target}'; targets: {string.Join(", ", FuzzParsers.Names)}");

        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
        FuzzSeeds.Torrents torrents = await FuzzSeeds.CreateTorrentsAsync(stop.Token).ConfigureAwait(false);
        Console.WriteLine($"fuzz: seed {seed}, {seconds} s per target, findings to {Path.GetFullPath(output)}");
        Console.WriteLine($"{"target",-20} {"execs",12} {"execs/s",10} {"corpus",7} {"accepted",9} {"findings",9}");
        int totalFindings = 0;
        foreach (string name in targets)
        {
            if (stop.IsCancellationRequested) break;
            TargetResult result = Fuzz(name, FuzzSeeds.For(name, torrents), new Random(HashCode.Combine(seed, name.Length, name[0], name[^1])),
                TimeSpan.FromSeconds(seconds), output, stop.Token);
            totalFindings += result.Findings;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{name,-20} {result.Executions,12:N0} {result.Executions / result.Elapsed.TotalSeconds,10:N0} {result.Corpus,7} {result.Accepted,9:N0} {result.Findings,9}"));
        }
        return totalFindings > 0 ? 1 : 0;
    }

    private sealed record TargetResult(long Executions, long Accepted, int Corpus, int Findings, TimeSpan Elapsed);

    private static TargetResult Fuzz(string target, List<byte[]> seeds, Random random, TimeSpan duration, string output, CancellationToken cancellationToken)
    {
        var corpus = new List<byte[]>(seeds);
        var known = new HashSet<string>(seeds.Select(Sha1));
        var signatures = new Dictionary<string, int>();
        var mutator = new Mutator(random, MaxInputLength);
        var server = target == "tracker-udp-server" ? new FuzzParsers.ServerState() : null;
        long executions = 0, accepted = 0;
        int findings = 0;
        var clock = Stopwatch.StartNew();

        // Seeds first: they must parse (a seed that does not is a bug in the seeds, and would hide a regression).
        foreach (byte[] s in seeds)
        {
            if (Execute(target, s, server, out Exception? error) != FuzzOutcome.Accepted && error is null)
                Console.Error.WriteLine($"fuzz: warning: a {target} seed is rejected ({Convert.ToHexStringLower(s.AsSpan(0, Math.Min(16, s.Length)))}...)");
            if (error is not null) findings += Record(target, s, error, signatures, output);
        }

        while (clock.Elapsed < duration && !cancellationToken.IsCancellationRequested)
        {
            for (int batch = 0; batch < 64; batch++)
            {
                byte[] parent = corpus[random.Next(corpus.Count)];
                byte[] input = random.Next(50) == 0 ? RandomBytes(random) : mutator.Mutate(parent, corpus[random.Next(corpus.Count)]);
                FuzzOutcome outcome = Execute(target, input, server, out Exception? error);
                executions++;
                if (error is not null)
                {
                    findings += Record(target, input, error, signatures, output);
                    continue;
                }
                if (outcome != FuzzOutcome.Accepted) continue;
                accepted++;
                // Coverage-less evolution: keep some accepted inputs so mutations can walk further from the seeds.
                if (random.Next(16) != 0 || !known.Add(Sha1(input))) continue;
                if (corpus.Count < MaxCorpus) corpus.Add(input);
                else corpus[seeds.Count + random.Next(MaxCorpus - seeds.Count)] = input;
            }
        }
        return new TargetResult(executions, accepted, corpus.Count, findings, clock.Elapsed);
    }

    /// <summary>Runs one input; returns the outcome, or sets <paramref name="finding"/> when it broke the contract.</summary>
    private static FuzzOutcome Execute(string target, byte[] input, FuzzParsers.ServerState? server, out Exception? finding)
    {
        finding = null;
        try
        {
            return FuzzParsers.Run(target, input, server);
        }
        catch (ShoalFormatException error) when (!FuzzParsers.NeverThrow(target))
        {
            _ = error;
            return FuzzOutcome.Rejected;
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            finding = error;
            return FuzzOutcome.Rejected;
        }
    }

    /// <summary>Saves the input and the exception (a few per distinct signature); returns 1 when the finding is new.</summary>
    private static int Record(string target, byte[] input, Exception error, Dictionary<string, int> signatures, string output)
    {
        string frame = new StackTrace(error, false).GetFrames().FirstOrDefault(f => f.GetMethod()?.DeclaringType?.Namespace?.StartsWith("Shoal", StringComparison.Ordinal) == true)?.GetMethod() is { } m
            ? m.DeclaringType!.FullName + "." + m.Name : "?";
        string signature = error.GetType().FullName + " at " + frame;
        signatures.TryGetValue(signature, out int seen);
        signatures[signature] = seen + 1;
        if (seen >= MaxSavedPerSignature) return 1;
        Directory.CreateDirectory(output);
        string stem = Path.Combine(output, $"{target}-{Sha1(input)[..8]}");
        File.WriteAllBytes(stem + ".bin", input);
        File.WriteAllText(stem + ".txt", $"target: {target}\nsignature: {signature}\nlength: {input.Length}\n\n{error}\n", Encoding.UTF8);
        if (seen == 0) Console.Error.WriteLine($"fuzz: FINDING in {target}: {signature}: {error.Message} -> {stem}.bin");
        return 1;
    }

    private static byte[] RandomBytes(Random random)
    {
        byte[] data = new byte[random.Next(0, 300)];
        random.NextBytes(data);
        return data;
    }

    private static string Sha1(byte[] data) => Convert.ToHexStringLower(SHA1.HashData(data));

    private static int ParseInt(string text, int min, int max) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value >= min && value <= max
            ? value : throw new BenchUsageException($"'{text}' is not a number in {min}..{max}");
}
