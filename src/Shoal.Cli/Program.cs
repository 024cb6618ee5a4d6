using System.CommandLine;
using System.CommandLine.Invocation;
using System.Runtime.InteropServices;
using Shoal.Cli.Commands;

namespace Shoal.Cli;

/// <summary>The <c>shoal</c> command: create, inspect, share and download torrents, and run a local demo swarm.</summary>
public static class Program
{
    /// <summary>Process entry: wires Ctrl+C and SIGTERM to a cancellation token and runs the command.</summary>
    public static async Task<int> Main(string[] args)
    {
        using var stop = new CancellationTokenSource();
        using PosixSignalRegistration? sigint = RegisterStop(PosixSignal.SIGINT, stop);
        using PosixSignalRegistration? sigterm = RegisterStop(PosixSignal.SIGTERM, stop);
        // Redirected output goes through a writer that notices a reader that went away (| head -1).
        using StandardOutput? redirected = StandardOutput.ForRedirectedConsole();
        return await RunAsync(args, redirected ?? Console.Out, Console.Error, stop.Token).ConfigureAwait(false);
    }

    /// <summary>
    /// Parses <paramref name="args"/> and runs the command, writing to the given writers. Returns the exit code:
    /// 0 success, 1 run-time failure, 2 bad usage or input, 130 interrupted. Never throws for user errors: they
    /// become one line "shoal: error: ..." on <paramref name="stderr"/>.
    /// </summary>
    public static Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        // Only the real console can be a terminal; injected writers (tests, embedding) always get plain output.
        bool outTerminal = ReferenceEquals(stdout, Console.Out) && !Console.IsOutputRedirected;
        bool errTerminal = ReferenceEquals(stderr, Console.Error) && !Console.IsErrorRedirected;
        return RunAsync(args, new CliContext(stdout, stderr, outTerminal, errTerminal), cancellationToken);
    }

    internal static async Task<int> RunAsync(string[] args, CliContext context, CancellationToken cancellationToken)
    {
        var verbose = new Option<bool>("--verbose")
        {
            Description = "Print the engine's log on stderr, and full exceptions instead of one line",
            Recursive = true,
        };
        RootCommand root = BuildRootCommand(context, verbose);
        // "shoal" alone is a request for help, not a mistake.
        if (args.Length == 0) args = ["--help"];

        ParseResult parsed;
        try
        {
            parsed = root.Parse(args);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            context.WriteError(ex.Message);
            return ExitCodes.Usage;
        }

        // --help and --version clear parse errors; anything else with errors is a usage error, reported on one line.
        if (parsed.Errors.Count > 0 && parsed.Action is not CommandLineAction { ClearsParseErrors: true })
        {
            context.WriteError(FirstError(parsed));
            return ExitCodes.Usage;
        }

        context.Verbose = IsVerbose(parsed, verbose, args);
        // A closed standard output (the reader went away) stops the command as Ctrl+C does, without an error line.
        using var commandStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (context.Out is StandardOutput output) output.Closed = () => { try { commandStop.Cancel(); } catch (ObjectDisposedException) { } };
        try
        {
            return await parsed.InvokeAsync(new InvocationConfiguration
            {
                Output = context.Out,
                Error = context.Error,
                EnableDefaultExceptionHandler = false,
                ProcessTerminationTimeout = null, // Ctrl+C is ours: it cancels the token, commands stop cleanly
            }, commandStop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (commandStop.IsCancellationRequested)
        {
            return ExitCodes.Interrupted;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            (string message, int exitCode) = ErrorReporter.Describe(ex);
            context.WriteError(message);
            if (IsVerbose(parsed, verbose, args)) context.Error.WriteLine(ex.ToString());
            return exitCode;
        }
    }

    internal static RootCommand BuildRootCommand(CliContext context, Option<bool> verbose)
    {
        var root = new RootCommand("Shoal: a BitTorrent engine. Create, inspect, share and download torrents.")
        {
            HelpName = "shoal",
        };
        root.Options.Add(verbose);
        // --version prints the one version string the engine also gives peers and trackers (ShoalVersion).
        foreach (Option option in root.Options)
        {
            if (option is VersionOption version) version.Action = new PrintVersion(context);
        }
        root.Subcommands.Add(CreateCommand.Build(context));
        root.Subcommands.Add(InfoCommand.Build(context));
        root.Subcommands.Add(ShareCommand.Build(context));
        root.Subcommands.Add(GetCommand.Build(context));
        root.Subcommands.Add(DemoCommand.Build(context));
        root.Subcommands.Add(TrackerCommand.Build(context));
        root.Subcommands.Add(DhtCommand.Build(context));
        root.Subcommands.Add(DaemonCommand.Build(context));
        Remote.ClientCommands.AddTo(root, context);
        return root;
    }

    /// <summary>The error to show: an unknown word says more than "required command was not provided".</summary>
    private static string FirstError(ParseResult parsed)
    {
        if (parsed.UnmatchedTokens.Count > 0)
        {
            string token = parsed.UnmatchedTokens[0];
            foreach (System.CommandLine.Parsing.ParseError error in parsed.Errors)
            {
                if (error.Message.Contains(token, StringComparison.Ordinal)) return error.Message;
            }
        }
        return parsed.Errors[0].Message;
    }

    private static bool IsVerbose(ParseResult parsed, Option<bool> verbose, string[] args)
    {
        try
        {
            return parsed.GetValue(verbose);
        }
        catch (InvalidOperationException)
        {
            return Array.IndexOf(args, "--verbose") >= 0;
        }
    }

    /// <summary>The action of --version: <see cref="ShoalVersion.Number"/>, the version peers see in "Shoal 0.1.0".</summary>
    private sealed class PrintVersion(CliContext context) : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parseResult)
        {
            context.Out.WriteLine(ShoalVersion.Number);
            return ExitCodes.Success;
        }
    }

    private static PosixSignalRegistration? RegisterStop(PosixSignal signal, CancellationTokenSource stop)
    {
        try
        {
            return PosixSignalRegistration.Create(signal, ctx =>
            {
                // The first signal asks for a clean stop; a second one gets the default behaviour (terminate now).
                if (stop.IsCancellationRequested) return;
                ctx.Cancel = true;
                stop.Cancel();
            });
        }
        catch (PlatformNotSupportedException)
        {
            return null;
        }
    }
}
