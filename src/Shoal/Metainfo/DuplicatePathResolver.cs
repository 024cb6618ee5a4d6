using System.Globalization;

namespace Shoal.Metainfo;

/// <summary>
/// Gives every file a path no other file or folder of the torrent has, as libtorrent's
/// <c>resolve_duplicate_filenames</c> does: folders claim their paths first, then files in order; a file whose
/// path is taken is renamed by inserting a counter before its extension ("bar.txt" becomes "bar.1.txt", then
/// "bar.2.txt"). Padding files of equal size may share a path (they are never written).
/// </summary>
/// <remarks>
/// Paths are compared folded: libtorrent lower-cases ASCII so a torrent behaves the same on case-insensitive file
/// systems (Windows, macOS); Shoal also folds non-ASCII case and compares canonical decompositions (<see cref="UnicodeFolding"/>), because
/// "Ä.txt" and "ä.txt", or a precomposed and a decomposed "é", are one file on those systems too. Names are then
/// the same wherever the download goes, and two files can never end up writing into one.
/// </remarks>
internal static class DuplicatePathResolver
{
    /// <summary>Renames files in place; true when any was renamed.</summary>
    public static bool Resolve(List<ParsedFile> files)
    {
        var taken = new Dictionary<string, int>(StringComparer.Ordinal); // folded path -> file index, or -1 for a folder
        foreach (ParsedFile file in files)
        {
            for (int depth = 1; depth < file.Segments.Count; depth++)
                taken.TryAdd(Fold(string.Join('/', file.Segments.Take(depth))), -1);
        }

        bool any = false;
        Dictionary<string, int>? nextCounter = null;
        for (int i = 0; i < files.Count; i++)
        {
            ParsedFile file = files[i];
            string path = file.JoinedPath;
            string key = Fold(path);
            if (taken.TryAdd(key, i)) continue;
            int other = taken[key];
            if (other >= 0 && file.IsPadding && files[other].IsPadding && files[other].Length == file.Length) continue;

            // libtorrent's split: the extension starts at the last dot of the file name ("a.tar.gz" -> "a.tar" + ".gz").
            int slash = path.LastIndexOf('/');
            int dot = path.LastIndexOf('.');
            if (dot <= slash) dot = -1;
            string stem = dot < 0 ? path : path[..dot];
            string extension = dot < 0 ? "" : path[dot..];
            nextCounter ??= new Dictionary<string, int>(StringComparer.Ordinal);
            string stemKey = Fold(stem) + "\0" + Fold(extension);
            int counter = nextCounter.GetValueOrDefault(stemKey);
            string renamed;
            do
            {
                // Counters below the last one used for this stem are all taken (the set only grows), so starting
                // after it finds the same name libtorrent's search from 1 finds, without quadratic work.
                counter++;
                renamed = stem + "." + counter.ToString(CultureInfo.InvariantCulture) + extension;
            }
            while (!taken.TryAdd(Fold(renamed), i));
            nextCounter[stemKey] = counter;
            file.Segments = [.. renamed.Split('/')];
            file.Renamed = true;
            any = true;
        }
        return any;
    }

    /// <summary>The comparison key: canonical decomposition, lower case (for ASCII exactly libtorrent's key).</summary>
    internal static string Fold(string path) => UnicodeFolding.Key(path);
}
