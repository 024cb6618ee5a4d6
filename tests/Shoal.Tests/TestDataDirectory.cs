using System.Runtime.CompilerServices;

namespace Shoal.Tests;

/// <summary>
/// Keeps every test away from the user's own shoal data (~/.local/share/shoal): before any test runs, the
/// SHOAL_DATA_DIR environment variable points the CLI (in process, and every child process, which inherits it)
/// at a temporary folder of this test run, deleted when the run ends. Tests that care about the data folder
/// (resume across runs) still pass --data-dir with a folder of their own.
/// </summary>
internal static class TestDataDirectory
{
    /// <summary>The run's data folder.</summary>
    public static string Path { get; private set; } = "";

#pragma warning disable CA2255 // a test assembly is the one place a module initializer is the right tool: it runs before any test
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void PointShoalAtATemporaryFolder()
    {
        Path = Directory.CreateTempSubdirectory("shoal-test-data-").FullName;
        Environment.SetEnvironmentVariable("SHOAL_DATA_DIR", Path);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(Path, recursive: true); }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { }
        };
    }
}
