using Shoal.Tests.Interop;

namespace Shoal.Tests.Browser;

/// <summary>
/// A test that drives the web page in headless Chromium (Debian's <c>chromium</c> at <see cref="Chromium.ExecutablePath"/>,
/// through Playwright). It skips only outside CI when Chromium is not installed; in CI (CI=true) it always runs,
/// and a missing browser fails it.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class BrowserFactAttribute : FactAttribute
{
    /// <summary>Marks a browser test.</summary>
    public BrowserFactAttribute()
    {
        if (!InteropEnvironment.Current.IsCi && !File.Exists(Chromium.ExecutablePath))
            Skip = $"{Chromium.ExecutablePath} is not installed (apt-get install chromium); browser tests run in CI (CI=true), where a missing browser fails";
    }
}

/// <summary>Browser tests run one at a time and alone: their timings mean something only on a machine not busy with other tests.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class BrowserCollection
{
    /// <summary>The collection name for <c>[Collection]</c>.</summary>
    public const string Name = "Browser";
}
