using Spectre.Console;

namespace Shoal.Cli;

/// <summary>
/// Where a run of <c>shoal</c> writes, and whether those writers are terminals (live widgets) or not
/// (plain lines). Injected so tests can capture the output.
/// </summary>
internal sealed class CliContext
{
    /// <summary>Creates the context.</summary>
    public CliContext(TextWriter output, TextWriter error, bool outputIsTerminal, bool errorIsTerminal)
    {
        Out = output;
        Error = error;
        OutputIsTerminal = outputIsTerminal;
        ErrorIsTerminal = errorIsTerminal;
    }

    /// <summary>Standard output: results (magnet links, info, JSON lines).</summary>
    public TextWriter Out { get; }

    /// <summary>Standard error: errors, progress bars, notes.</summary>
    public TextWriter Error { get; }

    /// <summary>Standard output is an interactive terminal.</summary>
    public bool OutputIsTerminal { get; }

    /// <summary>Standard error is an interactive terminal.</summary>
    public bool ErrorIsTerminal { get; }

    /// <summary>--verbose was given: the engine's log goes to standard error, and errors carry their details.</summary>
    public bool Verbose { get; set; }

    /// <summary>The engine's log sink: standard error with --verbose, nothing otherwise.</summary>
    public Action<string>? EngineLog => Verbose ? message => Error.WriteLine("shoal: " + TerminalText.Escape(message)) : null;

    /// <summary>Writes "shoal: error: ..." on standard error.</summary>
    public void WriteError(string message) => Error.WriteLine(ErrorReporter.Line(message));

    /// <summary>A Spectre console over standard error, for progress widgets; null when it is not a terminal.</summary>
    public IAnsiConsole? CreateErrorConsole() => ErrorIsTerminal ? CreateConsole(Error) : null;

    /// <summary>A Spectre console over standard output; null when it is not a terminal.</summary>
    public IAnsiConsole? CreateOutputConsole() => OutputIsTerminal ? CreateConsole(Out) : null;

    private static IAnsiConsole CreateConsole(TextWriter writer) => AnsiConsole.Create(new AnsiConsoleSettings
    {
        Out = new AnsiConsoleOutput(writer),
        Ansi = AnsiSupport.Detect,
        ColorSystem = ColorSystemSupport.Detect,
        Interactive = InteractionSupport.Yes,
    });
}
