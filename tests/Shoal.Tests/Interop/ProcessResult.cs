namespace Shoal.Tests.Interop;

/// <summary>What a finished child process printed and returned.</summary>
public sealed record ProcessResult(string Description, int ExitCode, IReadOnlyList<string> StandardOutput, IReadOnlyList<string> StandardError)
{
    /// <summary>All of stdout as one string.</summary>
    public string Output => string.Join('\n', StandardOutput);

    /// <summary>Command, exit code and output, for failure messages.</summary>
    public string Transcript =>
        $"$ {Description}\nexit: {ExitCode}\n--- stdout\n{string.Join('\n', StandardOutput)}\n--- stderr\n{string.Join('\n', StandardError)}";
}
