using System.CommandLine;
using System.Numerics;
using Shoal.Cli.Reporting;
using Shoal.Metainfo;

namespace Shoal.Cli.Commands;

/// <summary><c>shoal create PATH</c>: hashes a file or folder and writes a .torrent.</summary>
internal static class CreateCommand
{
    private const long MinPieceLength = 16 * 1024;
    private const long MaxPieceLength = 16 * 1024 * 1024;

    /// <summary>Builds the command.</summary>
    public static Command Build(CliContext context)
    {
        var path = new Argument<string>("PATH") { Description = "File or folder to make a torrent of" };
        var output = new Option<string?>("--output", "-o") { Description = "Where to write the .torrent (default: ./NAME.torrent)", HelpName = "FILE" };
        Option<string[]> trackers = OptionFactory.Trackers("Tracker announce URL, each in its own tier (repeatable)");
        Option<long> pieceSize = OptionFactory.Size("--piece-size", "Piece length: a power of two from 16KiB to 16MiB (default: chosen from the size)");
        var isPrivate = new Option<bool>("--private") { Description = "Set the private flag (BEP 27): peers only from trackers" };
        var comment = new Option<string?>("--comment") { Description = "Comment stored in the torrent", HelpName = "TEXT" };
        var force = new Option<bool>("--force", "-f") { Description = "Overwrite the output file if it exists" };
        var v2 = new Option<bool>("--v2") { Description = "Make a v2-only torrent (BEP 52: SHA-256 merkle trees; v1-only clients cannot read it)" };
        var hybrid = new Option<bool>("--hybrid") { Description = "Make a hybrid v1+v2 torrent (files padded to pieces), as libtorrent 2 and qBittorrent do" };

        var command = new Command("create", "Make a .torrent from a file or folder (v1 unless --v2 or --hybrid)")
        {
            path, output, trackers, pieceSize, isPrivate, comment, force, v2, hybrid,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(v2) && result.GetValue(hybrid)) result.AddError("--v2 and --hybrid cannot be used together");
        });
        command.SetAction((result, cancellationToken) => RunAsync(
            context,
            result.GetValue(path)!,
            result.GetValue(output),
            result.GetValue(trackers) ?? [],
            result.GetValue(pieceSize),
            result.GetValue(isPrivate),
            result.GetValue(comment),
            result.GetValue(force),
            result.GetValue(v2) ? TorrentVersion.V2 : result.GetValue(hybrid) ? TorrentVersion.Hybrid : TorrentVersion.V1,
            cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(
        CliContext context, string path, string? output, string[] trackers, long pieceSize, bool isPrivate, string? comment, bool force,
        TorrentVersion version, CancellationToken cancellationToken)
    {
        string content = PathArguments.ExistingContent(path);
        string name = Path.GetFileName(content);
        int? pieceLength = pieceSize == 0 ? null : ValidatePieceLength(pieceSize);
        string outputPath = Path.GetFullPath(string.IsNullOrEmpty(output) ? name + ".torrent" : PathArguments.ExpandHome(output));
        if (Directory.Exists(outputPath)) outputPath = Path.Combine(outputPath, name + ".torrent");
        if (File.Exists(outputPath) && !force) throw new CliException($"{outputPath} already exists (use --force to overwrite it)");

        var options = new TorrentCreationOptions
        {
            AnnounceTiers = [.. trackers.Select(url => (IReadOnlyList<string>)[url])],
            PieceLength = pieceLength,
            IsPrivate = isPrivate,
            Comment = string.IsNullOrEmpty(comment) ? null : comment,
            CreationDate = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()),
            Version = version,
        };

        long total = PathArguments.RequireData(content, path);
        Torrent torrent = await HashingProgress.RunAsync(
            context.CreateErrorConsole(), $"hashing {name}", total,
            progress => TorrentCreator.CreateAsync(content, options, progress, cancellationToken)).ConfigureAwait(false);

        await WriteAtomicallyAsync(outputPath, torrent.ToBytes(), cancellationToken).ConfigureAwait(false);
        await context.Out.WriteLineAsync($"torrent: {TerminalText.Escape(outputPath)}").ConfigureAwait(false);
        if (torrent.InfoHashV1 is { } v1Hash) await context.Out.WriteLineAsync($"info-hash: {v1Hash.ToHex()}").ConfigureAwait(false);
        if (torrent.InfoHashV2 is { } v2Hash) await context.Out.WriteLineAsync($"info-hash v2: {v2Hash.ToHex()}").ConfigureAwait(false);
        await context.Out.WriteLineAsync($"magnet: {TerminalText.Escape(torrent.ToMagnetLink().ToString())}").ConfigureAwait(false);
        return ExitCodes.Success;
    }

    /// <summary>The piece length as an int, or a usage error when it is not a power of two in range.</summary>
    internal static int ValidatePieceLength(long bytes)
    {
        if (bytes < MinPieceLength || bytes > MaxPieceLength || !BitOperations.IsPow2(bytes))
        {
            throw new CliException($"--piece-size: {bytes} bytes is not a power of two from 16KiB to 16MiB");
        }
        return (int)bytes;
    }

    // A crash half way must not leave a truncated .torrent under the final name.
    private static async Task WriteAtomicallyAsync(string path, byte[] bytes, CancellationToken cancellationToken)
    {
        string? directory = Path.GetDirectoryName(path);
        if (!string.IsNullOrEmpty(directory) && !Directory.Exists(directory))
        {
            throw new CliException($"no such folder: {directory}");
        }
        string temporary = path + ".part";
        await File.WriteAllBytesAsync(temporary, bytes, cancellationToken).ConfigureAwait(false);
        File.Move(temporary, path, overwrite: true);
    }
}
