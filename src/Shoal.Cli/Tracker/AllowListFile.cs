using System.Globalization;
using Shoal.Metainfo;

namespace Shoal.Cli.Tracker;

/// <summary>Reads an allow list: one 40-hex info-hash per line; blank lines and lines starting with '#' are skipped.</summary>
internal static class AllowListFile
{
    /// <summary>Most entries read, so a wrong file (a disk image...) fails fast instead of filling memory.</summary>
    public const int MaxEntries = 1_000_000;

    /// <summary>Loads the file.</summary>
    /// <exception cref="CliException">A line is not an info-hash, or the file is too long.</exception>
    public static HashSet<InfoHash> Load(string path)
    {
        var hashes = new HashSet<InfoHash>();
        int number = 0;
        foreach (string raw in File.ReadLines(path))
        {
            number++;
            string line = raw.Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            if (line.Length != 40 || !InfoHash.TryParse(line, out InfoHash hash))
            {
                string shown = line.Length > 60 ? line[..60] + "..." : line;
                throw new CliException($"{path}:{number.ToString(CultureInfo.InvariantCulture)}: '{shown}' is not a 40-hex info-hash");
            }
            hashes.Add(hash);
            if (hashes.Count > MaxEntries) throw new CliException($"{path}: more than {MaxEntries.ToString(CultureInfo.InvariantCulture)} info-hashes");
        }
        return hashes;
    }
}
