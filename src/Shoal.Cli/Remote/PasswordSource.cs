namespace Shoal.Cli.Remote;

/// <summary>
/// Where the daemon's password comes from, for both sides: <c>--password-file FILE</c> (its first line), else the
/// <c>SHOAL_PASSWORD</c> environment variable. Never a command-line argument (it would show in ps and shell history).
/// </summary>
internal static class PasswordSource
{
    /// <summary>The environment variable holding the password.</summary>
    public const string EnvironmentVariable = "SHOAL_PASSWORD";

    /// <summary>The password, or null when neither source gives one.</summary>
    public static string? Read(string? file) => Read(file, Environment.GetEnvironmentVariable);

    internal static string? Read(string? file, Func<string, string?> environment)
    {
        if (!string.IsNullOrEmpty(file))
        {
            string path = Commands.PathArguments.ExpandHome(file);
            try
            {
                using var reader = new StreamReader(path);
                string? line = reader.ReadLine();
                if (string.IsNullOrEmpty(line)) throw new CliException($"--password-file: {path} is empty");
                return line;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new CliException($"--password-file: cannot read {path}: {ex.Message}", ExitCodes.Usage, ex);
            }
        }
        return environment(EnvironmentVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment : null;
    }
}
