namespace Shoal.Tests.Interop;

/// <summary>
/// Interop tests start several real clients each; on a 2-core CI machine they run one at a time and
/// not alongside the rest of the suite, so no test starves another's processes.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class InteropCollection
{
    /// <summary>The collection name for <c>[Collection]</c>.</summary>
    public const string Name = "Interop";
}
