namespace Shoal.Bench.Micro;

/// <summary>Options of the <c>micro</c> verb.</summary>
internal sealed record MicroOptions
{
    public const string Usage = "micro [--filter NAME[,NAME...]] [--quick]   (NAME: bencode, wire, encryption, storage, picker, or part of a benchmark's Class.Method)";

    /// <summary>Names a benchmark must match one of (case-insensitive); empty runs them all.</summary>
    public IReadOnlyList<string> Filters { get; init; } = [];

    /// <summary>A smoke run: one warm-up and three short iterations per benchmark instead of three and ten.</summary>
    public bool Quick { get; init; }

    public static MicroOptions Parse(string[] args)
    {
        var options = new MicroOptions();
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--quick":
                    options = options with { Quick = true };
                    break;
                case "--filter":
                    if (i + 1 >= args.Length) throw new BenchUsageException("--filter needs a value");
                    string[] names = args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                    if (names.Length == 0) throw new BenchUsageException("--filter needs a name");
                    options = options with { Filters = [.. options.Filters, .. names] };
                    break;
                default:
                    throw new BenchUsageException($"micro: unknown option {args[i]}");
            }
        }
        return options;
    }
}
