using System.CommandLine;
using Shoal.Cli.Demo;

namespace Shoal.Cli.Commands;

/// <summary><c>shoal demo</c>: a seeder and N leechers in one process on loopback.</summary>
internal static class DemoCommand
{
    /// <summary>Default upload cap per peer: with the default 64 MiB and 8 leechers the swarm needs roughly
    /// 20-40 s, against about 134 s for one server at the same rate.</summary>
    public const long DefaultUploadRate = 4_000_000;

    /// <summary>Default size of the generated file.</summary>
    public const long DefaultSize = 64L << 20;

    /// <summary>Builds the command.</summary>
    public static Command Build(CliContext context)
    {
        Option<int> leechers = OptionFactory.Int("--leechers", "Number of downloading peers", 8, 1, 64);
        Option<long> size = OptionFactory.Size("--size", "Size of the generated file (default 64MiB)", DefaultSize);
        Option<long> uploadRate = OptionFactory.Size("--upload-rate", "Upload cap of every peer per second (default 4MB; 0 = unlimited)", DefaultUploadRate);
        Option<long> pieceSize = OptionFactory.Size("--piece-size", "Piece length, a power of two from 16KiB to 16MiB (default: chosen from the size)");
        Option<int> timeout = OptionFactory.Int("--timeout", "Give up after this many seconds", 600, 1, 86_400);

        var command = new Command("demo", "Run a seeder and N leechers on 127.0.0.1 and show how the swarm shares the load")
        {
            leechers, size, uploadRate, pieceSize, timeout,
        };
        command.SetAction((result, cancellationToken) =>
        {
            long bytes = result.GetValue(size);
            if (bytes < 1) throw new CliException("--size: the file needs at least one byte");
            long piece = result.GetValue(pieceSize);
            var settings = new DemoSettings(
                result.GetValue(leechers),
                bytes,
                result.GetValue(uploadRate),
                piece == 0 ? null : CreateCommand.ValidatePieceLength(piece),
                TimeSpan.FromSeconds(result.GetValue(timeout)));
            return new DemoSwarm(context, settings).RunAsync(cancellationToken);
        });
        return command;
    }
}
