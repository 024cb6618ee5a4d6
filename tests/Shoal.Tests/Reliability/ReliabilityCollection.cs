namespace Shoal.Tests.Reliability;

/// <summary>
/// The reliability tests run one at a time and alone: they measure process memory and allocation, which
/// other tests running beside them would blur.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ReliabilityCollection
{
    /// <summary>The collection's name.</summary>
    public const string Name = "Reliability";
}
