using Shoal.Metainfo;

namespace Shoal.Cli.Commands;

/// <summary>Reads what the user named on the command line: a .torrent file or a magnet link.</summary>
internal static class TorrentSource
{
    /// <summary>True when <paramref name="argument"/> looks like a magnet URI rather than a path.</summary>
    public static bool IsMagnet(string argument) => argument.StartsWith("magnet:", StringComparison.OrdinalIgnoreCase);

    /// <summary>Parses a magnet link; a malformed one is a usage error naming what is wrong.</summary>
    public static MagnetLink ParseMagnet(string uri)
    {
        try
        {
            return MagnetLink.Parse(uri);
        }
        catch (MetainfoException ex)
        {
            throw new CliException($"invalid magnet link: {ex.Message}", ExitCodes.Usage, ex);
        }
    }

    /// <summary>Loads a .torrent file; a missing or corrupt file is a usage error.</summary>
    public static Torrent LoadTorrentFile(string path)
    {
        path = PathArguments.ExpandHome(path);
        if (Directory.Exists(path)) throw new CliException($"'{path}' is a folder, not a .torrent file");
        if (!File.Exists(path)) throw new CliException($"no such file: {path}");
        return Torrent.Load(path); // MetainfoException names the file and what is wrong; mapped to exit 2 at the top
    }
}
