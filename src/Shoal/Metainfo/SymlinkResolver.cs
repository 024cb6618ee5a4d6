namespace Shoal.Metainfo;

/// <summary>
/// Decides where each symbolic link of a torrent may point. A target must be a file or a folder of the same
/// torrent, named relative to the torrent's root folder (BEP 47) or, as libtorrent also accepts, relative to the
/// link's own folder. Anything else (absolute, outside the torrent, missing, the link itself) leaves
/// <see cref="ParsedFile.SymlinkTarget"/> null: such a link is never created as a link, so no link can lead out
/// of the download folder.
/// </summary>
internal static class SymlinkResolver
{
    public static void Resolve(List<ParsedFile> files, bool isMultiFile)
    {
        if (!files.Exists(f => f.SymlinkPath is not null)) return;
        var filePaths = new HashSet<string>(StringComparer.Ordinal);
        var folders = new HashSet<string>(StringComparer.Ordinal);
        foreach (ParsedFile file in files)
        {
            if (file.IsPadding) continue;
            filePaths.Add(file.JoinedPath);
            for (int depth = 1; depth < file.Segments.Count; depth++) folders.Add(string.Join('/', file.Segments.Take(depth)));
        }
        foreach (ParsedFile file in files)
        {
            if (file.SymlinkPath is not { Count: > 0 } relative || !isMultiFile) continue;
            List<string> fromRoot = [file.Segments[0], .. relative];
            List<string> fromFolder = [.. file.Segments.Take(file.Segments.Count - 1), .. relative];
            foreach (List<string> candidate in (List<string>[])[fromRoot, fromFolder])
            {
                string joined = string.Join('/', candidate);
                if (joined == file.JoinedPath) continue;
                if (filePaths.Contains(joined) || folders.Contains(joined))
                {
                    file.SymlinkTarget = candidate;
                    break;
                }
            }
        }
    }
}
