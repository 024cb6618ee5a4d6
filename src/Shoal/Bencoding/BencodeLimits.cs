namespace Shoal.Bencoding;

/// <summary>Bounds the decoder enforces so hostile input cannot exhaust the stack, memory or time.</summary>
public sealed record BencodeLimits
{
    private readonly int _maxDepth = 64;
    private readonly int _maxItems = 1_000_000;
    private readonly int _maxInputLength = 64 * 1024 * 1024;

    /// <summary>The defaults: depth 64, 1,000,000 values, 64 MiB of input.</summary>
    public static BencodeLimits Default { get; } = new();

    /// <summary>Deepest nesting of lists and dictionaries allowed (the top-level container counts as 1).</summary>
    public int MaxDepth
    {
        get => _maxDepth;
        init => _maxDepth = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), "must be positive");
    }

    /// <summary>Most values (integers, strings, lists, dictionaries, keys included) one input may hold.</summary>
    public int MaxItems
    {
        get => _maxItems;
        init => _maxItems = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), "must be positive");
    }

    /// <summary>Largest input accepted, in bytes.</summary>
    public int MaxInputLength
    {
        get => _maxInputLength;
        init => _maxInputLength = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), "must be positive");
    }
}
