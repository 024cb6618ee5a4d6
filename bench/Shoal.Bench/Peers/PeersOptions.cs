using System.Globalization;

namespace Shoal.Bench.Peers;

/// <summary>Command line of the <c>peers</c> benchmark (and of its seeder child, <c>peers --serve</c>).</summary>
internal sealed record PeersOptions
{
    public const string Usage = """
        usage: shoal-bench peers [--counts 50,100,200] [--size 64MiB] [--seconds 10] [--piece-size BYTES]
                                 [--work DIR] [--out FILE] [--seed N]
          One Shoal seeder (a child process running ShoalSession) serving N raw wire connections from this process:
          idle: N peers handshake, send INTERESTED and stay silent: seeder RSS / RssAnon growth per connection;
          active: N peers request 16 blocks at a time whenever unchoked for --seconds: MiB/s served, seeder CPU s per GiB.
        """;

    public IReadOnlyList<int> Counts { get; init; } = [50, 100, 200];
    public long Size { get; init; } = 64L << 20;
    public int Seconds { get; init; } = 10;
    public int PieceSize { get; init; } = 256 * 1024;
    public string? WorkDirectory { get; init; }
    public string? OutFile { get; init; }
    public int Seed { get; init; } = 20240601;

    public static PeersOptions Parse(string[] args)
    {
        var options = new PeersOptions();
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new BenchUsageException($"{name} needs a value");
            options = name switch
            {
                "--counts" => options with { Counts = ParseCounts(Value()) },
                "--size" => options with { Size = ByteSize.Parse(Value()) },
                "--seconds" => options with { Seconds = ParseInt(name, Value(), 1, 600) },
                "--piece-size" => options with { PieceSize = (int)ByteSize.Parse(Value()) },
                "--work" => options with { WorkDirectory = Value() },
                "--out" => options with { OutFile = Value() },
                "--seed" => options with { Seed = ParseInt(name, Value(), int.MinValue, int.MaxValue) },
                _ => throw new BenchUsageException($"unknown option '{name}'\n{Usage}"),
            };
        }
        return options;
    }

    private static int ParseInt(string name, string value, int min, int max) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? n
            : throw new BenchUsageException($"{name}: '{value}' is not a number in {min}..{max}");

    private static int[] ParseCounts(string value)
    {
        var parts = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0) throw new BenchUsageException("--counts is empty");
        return [.. parts.Select(p => ParseInt("--counts", p, 1, 5000))];
    }
}
