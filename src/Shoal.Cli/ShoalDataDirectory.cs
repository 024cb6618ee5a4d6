using Shoal.Cli.Commands;

namespace Shoal.Cli;

/// <summary>
/// Where <c>shoal</c> keeps its own state: fast-resume files (<c>resume/</c>) and DHT node ids and routing tables
/// (<c>dht/</c>). Chosen, first match wins, by <c>--data-dir DIR</c>, the <c>SHOAL_DATA_DIR</c> environment variable,
/// <c>$XDG_DATA_HOME/shoal</c>, then <c>~/.local/share/shoal</c>. Nothing else of the user's home is written.
/// </summary>
internal static class ShoalDataDirectory
{
    /// <summary>The environment variable that moves the data folder (tests point it at a temporary folder).</summary>
    public const string EnvironmentVariable = "SHOAL_DATA_DIR";

    /// <summary>The data folder: <paramref name="option"/> (the --data-dir value) when given, else the environment's choice.</summary>
    public static string Resolve(string? option) => Resolve(option, Environment.GetEnvironmentVariable,
        Environment.GetFolderPath(Environment.SpecialFolder.UserProfile, Environment.SpecialFolderOption.DoNotVerify));

    /// <summary>The rule itself, with the environment and the home folder passed in (tests).</summary>
    internal static string Resolve(string? option, Func<string, string?> environment, string home)
    {
        if (!string.IsNullOrWhiteSpace(option)) return Full(option, "--data-dir");
        if (environment(EnvironmentVariable) is { Length: > 0 } fromEnvironment) return Full(fromEnvironment, EnvironmentVariable);
        // XDG says a relative XDG_DATA_HOME is invalid and must be ignored.
        if (environment("XDG_DATA_HOME") is { Length: > 0 } xdg && Path.IsPathFullyQualified(xdg)) return Path.Combine(xdg, "shoal");
        return string.IsNullOrEmpty(home)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify), "shoal")
            : Path.Combine(home, ".local", "share", "shoal");
    }

    /// <summary>Fast-resume files of <c>get</c> and <c>share</c>.</summary>
    public static string Resume(string dataDirectory) => Path.Combine(dataDirectory, "resume");

    /// <summary>DHT node ids and routing tables.</summary>
    public static string Dht(string dataDirectory) => Path.Combine(dataDirectory, "dht");

    private static string Full(string path, string source)
    {
        try
        {
            return Path.GetFullPath(PathArguments.ExpandHome(path));
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new CliException($"{source}: '{path}' is not a usable folder: {ex.Message}", ExitCodes.Usage, ex);
        }
    }
}
