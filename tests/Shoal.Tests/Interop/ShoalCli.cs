namespace Shoal.Tests.Interop;

/// <summary>Runs the shoal CLI (<c>dotnet shoal.dll ...</c>) from the test output folder as a child process.</summary>
public static class ShoalCli
{
    /// <summary>The dotnet host running this test, so the CLI runs on the same runtime.</summary>
    public static string DotnetHost =>
        Environment.ProcessPath is { } host && Path.GetFileNameWithoutExtension(host) == "dotnet" ? host : "dotnet";

    /// <summary>Starts <c>shoal args</c>; dispose the result to kill it.</summary>
    public static ChildProcess Start(params string[] arguments)
    {
        EnsurePresent();
        return ChildProcess.Start(DotnetHost, [InteropEnvironment.ShoalDllPath, .. arguments]);
    }

    /// <summary>Runs <c>shoal args</c> to the end, bounded by <paramref name="timeout"/>.</summary>
    public static Task<ProcessResult> RunAsync(TimeSpan timeout, params string[] arguments)
    {
        EnsurePresent();
        return ChildProcess.RunAsync(DotnetHost, [InteropEnvironment.ShoalDllPath, .. arguments], timeout);
    }

    private static void EnsurePresent()
    {
        if (!File.Exists(InteropEnvironment.ShoalDllPath))
        {
            throw new InteropException($"shoal CLI not found at {InteropEnvironment.ShoalDllPath} (Shoal.Tests must reference src/Shoal.Cli)");
        }
    }
}
