namespace Shoal.Tests;

/// <summary>
/// The test assembly's entry point. The test runner never calls it; tests start this assembly as a child process
/// (<c>dotnet Shoal.Tests.dll VERB ...</c>) when they need a process of its own, such as one under a low
/// open-files limit.
/// </summary>
public static class TestProgram
{
    /// <summary>Runs the child verb named by <paramref name="args"/>[0].</summary>
    public static async Task<int> Main(string[] args)
    {
        if (args.Length > 0 && args[0] == Swarm.ManyTorrentsChild.Verb) return await Swarm.ManyTorrentsChild.RunAsync(args[1..]);
        await Console.Error.WriteLineAsync("usage: Shoal.Tests.dll " + Swarm.ManyTorrentsChild.Verb + " ROOT COUNT MAX-OPEN-FILES");
        return 2;
    }
}
