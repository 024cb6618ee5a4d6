namespace Shoal.Cli;

/// <summary>
/// A failure the user should read as one line: the message says what is wrong, the exit code says whether
/// it was bad input (<see cref="ExitCodes.Usage"/>) or a run-time failure (<see cref="ExitCodes.Failure"/>).
/// </summary>
internal sealed class CliException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CliException(string message, int exitCode = ExitCodes.Usage, Exception? inner = null)
        : base(message, inner)
    {
        ExitCode = exitCode;
    }

    /// <summary>The process exit code to use.</summary>
    public int ExitCode { get; }
}
