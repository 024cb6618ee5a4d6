namespace Shoal.Tests.Interop;

/// <summary>
/// A fact that needs real clients. Skipped (with the reason) when a client is missing on a developer
/// machine; never skipped when CI=true, so the test runs and fails through
/// <see cref="InteropEnvironment.Require"/>: interop must not silently disappear from CI.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class InteropFactAttribute : FactAttribute
{
    /// <summary>Marks a test that needs <paramref name="clients"/>.</summary>
    public InteropFactAttribute(InteropClients clients = InteropClients.Libtorrent)
    {
        Clients = clients;
        Skip = InteropSkip.ReasonFor(clients);
    }

    /// <summary>The clients the test needs.</summary>
    public InteropClients Clients { get; }
}

/// <summary>The <see cref="InteropFactAttribute"/> for theories.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class InteropTheoryAttribute : TheoryAttribute
{
    /// <summary>Marks a theory that needs <paramref name="clients"/>.</summary>
    public InteropTheoryAttribute(InteropClients clients = InteropClients.Libtorrent)
    {
        Clients = clients;
        Skip = InteropSkip.ReasonFor(clients);
    }

    /// <summary>The clients the theory needs.</summary>
    public InteropClients Clients { get; }
}

internal static class InteropSkip
{
    /// <summary>The skip reason, or null to run (always null in CI, where a missing client is a failure).</summary>
    public static string? ReasonFor(InteropClients clients)
    {
        var environment = InteropEnvironment.Current;
        if (environment.IsCi) return null;
        return environment.ProblemWith(clients) is { } problem
            ? $"interop client missing ({problem}); it runs in CI (CI=true), where a missing client fails"
            : null;
    }
}
