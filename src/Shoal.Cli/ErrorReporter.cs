using System.Net.Sockets;
using Shoal.Metainfo;

namespace Shoal.Cli;

/// <summary>Turns any exception into the one line the user sees and the exit code.</summary>
internal static class ErrorReporter
{
    /// <summary>The prefix of every error line.</summary>
    public const string Prefix = "shoal: error: ";

    /// <summary>What to print (without the prefix) and which exit code to use.</summary>
    public static (string Message, int ExitCode) Describe(Exception exception)
    {
        Exception ex = Unwrap(exception);
        (string message, int code) = ex switch
        {
            CliException cli => (cli.Message, cli.ExitCode),
            MetainfoException meta => (meta.Message, ExitCodes.Usage),
            // A torrent whose names this folder's file system cannot hold is bad input for this folder, found before any download.
            Shoal.Storage.StorageException { Kind: Shoal.Storage.StorageErrorKind.UnsafePath or Shoal.Storage.StorageErrorKind.NameTooLong or Shoal.Storage.StorageErrorKind.InvalidName } names
                => (names.Message, ExitCodes.Usage),
            ShoalFormatException format => (format.Message, ExitCodes.Failure),
            SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse } => ("the address or port is already in use", ExitCodes.Failure),
            SocketException socket => ($"network error: {socket.Message}", ExitCodes.Failure),
            FileNotFoundException notFound => ($"no such file: {notFound.FileName ?? notFound.Message}", ExitCodes.Usage),
            DirectoryNotFoundException dir => (dir.Message, ExitCodes.Usage),
            UnauthorizedAccessException denied => ($"permission denied: {denied.Message}", ExitCodes.Failure),
            IOException io => (io.Message, ExitCodes.Failure),
            _ => ($"internal error: {ex.GetType().Name}: {ex.Message} (run with --verbose for details)", ExitCodes.Failure),
        };
        return (OneLine(message), code);
    }

    /// <summary>The full error line: "shoal: error: ...", control characters escaped (a message may quote a torrent's names).</summary>
    public static string Line(string message) => Prefix + TerminalText.Escape(OneLine(message));

    /// <summary>Collapses line breaks so an error is always exactly one line.</summary>
    public static string OneLine(string message)
    {
        string trimmed = message.Trim();
        return trimmed.Contains('\n') || trimmed.Contains('\r')
            ? string.Join(' ', trimmed.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            : trimmed;
    }

    private static Exception Unwrap(Exception ex)
    {
        while (ex is AggregateException { InnerExceptions.Count: 1 } agg) ex = agg.InnerExceptions[0];
        return ex;
    }
}
